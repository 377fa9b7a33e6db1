// An agent on vmcp with the OpenAI Agents SDK: `MCPServerStreamableHttp` with the session
// token as a bearer, wired into an `Agent` through `mcpServers`. Run: node examples/openai-agents.ts
// (see README.md). No model is called: the tools are built and invoked the way a run would.
import { Agent, getAllMcpTools, MCPServerStreamableHttp, RunContext } from '@openai/agents';
import type { FunctionTool } from '@openai/agents';
import { runFromEnvironment, type RunOptions, type RunResult } from './backend.ts';

export async function run(opts: RunOptions): Promise<RunResult> {
  const server = new MCPServerStreamableHttp({
    name: 'vmcp',
    url: opts.mcpServerUrl,
    requestInit: { headers: { Authorization: `Bearer ${opts.token}` } },
  });
  try {
    // A revoked or expired token fails here: SdkHttpError, code CLIENT_HTTP_AUTHENTICATION,
    // 'Version negotiation failed: the server requires authorization (HTTP 401)'.
    await server.connect();
    const listed = await server.listTools();

    // The real wiring: the Agent owns the server; `run(agent, input)` would list and call
    // its tools on every turn. With a model configured (OPENAI_API_KEY), that is:
    //   const result = await run(agent, 'Say hello with the echo tool');
    //   console.log(result.finalOutput);
    const agent = new Agent({
      name: 'vmcp-example',
      instructions: 'Use the tools you have to help the user.',
      mcpServers: [server],
    });

    // What a run does before each model call: turn the MCP tools into function tools.
    const runContext = new RunContext();
    const tools = (await getAllMcpTools({ mcpServers: [server], runContext, agent })).filter(
      (t): t is FunctionTool => t.type === 'function',
    );

    let result: unknown;
    if (opts.toolName) {
      const tool = tools.find((t) => t.name === opts.toolName);
      if (!tool) throw new Error(`tool ${opts.toolName} is not exposed to this user (have: ${listed.map((t) => t.name).join(', ')})`);
      // The runner calls this with the model's JSON arguments. A single content block
      // comes back as that block ({ type: 'text', text }). Errors do not throw: the
      // default errorFunction turns them into a generic message for the model.
      result = await tool.invoke(runContext, JSON.stringify(opts.args ?? {}));
    }
    return { tools: tools.map((t) => t.name), result };
  } finally {
    await server.close();
  }
}

if (import.meta.main) await runFromEnvironment(run);
