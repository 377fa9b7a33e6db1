// An agent on vmcp with the official MCP TypeScript SDK: `Client` over Streamable HTTP,
// the session token as a bearer. Run: node examples/mcp-sdk-client.ts (see README.md).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Vmcp } from '@vmcp/sdk';

export interface RunOptions {
  /** The config's `mcp_server_url`, as returned when the token was minted. */
  mcpServerUrl: string;
  /** A session token minted for one end user (`configs.mintToken`). */
  token: string;
  /** A tool to call after listing; without one, the example only lists. */
  toolName?: string;
  args?: Record<string, unknown>;
}

export interface RunResult {
  /** The tool names the agent sees: exactly the ones the config exposes. */
  tools: string[];
  /** What the tool returned, as this framework hands it to the agent. */
  result: unknown;
}

export async function run(opts: RunOptions): Promise<RunResult> {
  const client = new Client({ name: 'vmcp-example-mcp-sdk', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(opts.mcpServerUrl), {
    requestInit: { headers: { Authorization: `Bearer ${opts.token}` } },
  });
  // A revoked or expired token fails here: StreamableHTTPError with code 401.
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    // A model would be plugged in here: hand `tools` (name, description, inputSchema)
    // to your LLM and call `client.callTool` with the tool calls it makes.
    const result = opts.toolName ? await client.callTool({ name: opts.toolName, arguments: opts.args ?? {} }) : undefined;
    return { tools: tools.map((t) => t.name), result };
  } finally {
    await client.close();
  }
}

async function main(): Promise<void> {
  const env = process.env;
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set (see examples/README.md)`);
    return value;
  };
  // Your backend does this part: it holds the tenant API key and mints a short-lived
  // token per end user; the agent only ever gets the token and the URL.
  const vmcp = new Vmcp({ baseUrl: env.VMCP_URL ?? 'http://localhost:8080', apiKey: need('VMCP_API_KEY') });
  const { token, mcp_server_url } = await vmcp.configs.mintToken(need('VMCP_CONFIG_ID'), { identifier: need('VMCP_IDENTIFIER') });

  const { tools, result } = await run({
    mcpServerUrl: mcp_server_url,
    token,
    toolName: env.VMCP_TOOL,
    args: env.VMCP_TOOL_ARGS ? (JSON.parse(env.VMCP_TOOL_ARGS) as Record<string, unknown>) : {},
  });
  console.log('tools:', tools.join(', '));
  if (env.VMCP_TOOL) console.log(`${env.VMCP_TOOL}:`, JSON.stringify(result, null, 2));
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
