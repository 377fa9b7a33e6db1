// An agent on vmcp with the official MCP TypeScript SDK: `Client` over Streamable HTTP,
// the session token as a bearer. Run: node examples/mcp-sdk-client.ts (see README.md).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { runFromEnvironment, type RunOptions, type RunResult } from './backend.ts';

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

if (import.meta.main) await runFromEnvironment(run);
