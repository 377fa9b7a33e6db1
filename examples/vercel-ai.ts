// An agent on vmcp with the Vercel AI SDK: `createMCPClient` from @ai-sdk/mcp over HTTP,
// the session token as a bearer; `client.tools()` is a ToolSet for generateText/streamText.
// Run: node examples/vercel-ai.ts (see README.md).
import { createMCPClient } from '@ai-sdk/mcp';
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
  // Connects and initializes: a revoked or expired token fails here with an
  // MCPClientError 'MCP HTTP Transport Error: POSTing to endpoint (HTTP 401): …'.
  const client = await createMCPClient({
    transport: { type: 'http', url: opts.mcpServerUrl, headers: { Authorization: `Bearer ${opts.token}` } },
  });
  try {
    const tools = await client.tools();
    // A model would be plugged in here:
    //   const { text } = await generateText({ model: openai('gpt-4o-mini'), tools, stopWhen: stepCountIs(5), prompt: '…' });
    let result: unknown;
    if (opts.toolName) {
      const tool = tools[opts.toolName];
      if (!tool?.execute) throw new Error(`tool ${opts.toolName} is not exposed to this user (have: ${Object.keys(tools).join(', ')})`);
      // generateText calls this with the model's arguments; the result is the MCP
      // CallToolResult ({ content, structuredContent?, isError? }) as the server sent it.
      result = await tool.execute(opts.args ?? {}, { toolCallId: 'example-call-1', messages: [], context: {} });
    }
    return { tools: Object.keys(tools), result };
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
