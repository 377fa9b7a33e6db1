// An agent on vmcp with the Vercel AI SDK: `createMCPClient` from @ai-sdk/mcp over HTTP,
// the session token as a bearer; `client.tools()` is a ToolSet for generateText/streamText.
// Run: node examples/vercel-ai.ts (see README.md).
import { createMCPClient } from '@ai-sdk/mcp';
import { runFromEnvironment, type RunOptions, type RunResult } from './backend.ts';

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

if (import.meta.main) await runFromEnvironment(run);
