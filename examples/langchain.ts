// An agent on vmcp with LangChain.js: `MultiServerMCPClient` from @langchain/mcp-adapters
// turns the config's tools into LangChain tools. Run: node examples/langchain.ts (see README.md).
import { MultiServerMCPClient } from '@langchain/mcp-adapters';
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
  const client = new MultiServerMCPClient({
    mcpServers: {
      vmcp: {
        transport: 'http',
        url: opts.mcpServerUrl,
        headers: { Authorization: `Bearer ${opts.token}` },
        // vmcp speaks Streamable HTTP only. Without this, a 4xx (a revoked token's 401
        // included) makes the adapter retry the same URL as legacy SSE first.
        automaticSSEFallback: false,
      },
    },
  });
  try {
    // Connects, then lists. A revoked or expired token fails here with an
    // MCPClientError: 'Authentication failed for HTTP server "vmcp" … token revoked …'.
    const tools = await client.getTools();
    // A model would be plugged in here, e.g. with LangGraph:
    //   const agent = createReactAgent({ llm: new ChatOpenAI({ model: 'gpt-4o-mini' }), tools });
    //   await agent.invoke({ messages: [{ role: 'user', content: '…' }] });
    let result: unknown;
    if (opts.toolName) {
      const tool = tools.find((t) => t.name === opts.toolName);
      if (!tool) throw new Error(`tool ${opts.toolName} is not exposed to this user (have: ${tools.map((t) => t.name).join(', ')})`);
      // Called with plain arguments (not a ToolCall), a tool returns its content only:
      // a single text block comes back as a string.
      result = await tool.invoke(opts.args ?? {});
    }
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
