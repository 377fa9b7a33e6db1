// An agent on vmcp with LangChain.js: `MultiServerMCPClient` from @langchain/mcp-adapters
// turns the config's tools into LangChain tools. Run: node examples/langchain.ts (see README.md).
import { MultiServerMCPClient } from '@langchain/mcp-adapters';
import { runFromEnvironment, type RunOptions, type RunResult } from './backend.ts';

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

if (import.meta.main) await runFromEnvironment(run);
