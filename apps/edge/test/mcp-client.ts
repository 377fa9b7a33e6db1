import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** An official SDK client connected to a vmcp MCP endpoint with a session token. */
export async function connectAgent(url: string, token?: string): Promise<Client> {
  const client = new Client({ name: 'vmcp-e2e-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : {},
  });
  await client.connect(transport);
  return client;
}

/** The HTTP status an SDK connection attempt failed with (StreamableHTTPError.code). */
export async function connectStatus(url: string, token?: string): Promise<number | string> {
  try {
    const client = await connectAgent(url, token);
    await client.close();
    return 'connected';
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'number' ? code : String(err);
  }
}

/** The error a tools/call raised (JSON-RPC code, message, vmcp code), or 'ok'. */
export async function callError(client: Client, name: string, args: Record<string, unknown> = {}) {
  try {
    await client.callTool({ name, arguments: args });
    return 'ok' as const;
  } catch (err) {
    const e = err as { code?: number; message: string; data?: { code?: string } };
    return { rpc: e.code, message: e.message, code: e.data?.code };
  }
}

export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content
    .filter((c) => c.type === 'text')
    .map((c) => c.text)
    .join('');
}
