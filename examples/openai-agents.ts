// An agent on vmcp with the OpenAI Agents SDK: `MCPServerStreamableHttp` with the session
// token as a bearer, wired into an `Agent` through `mcpServers`. Run: node examples/openai-agents.ts
// (see README.md). No model is called: the tools are built and invoked the way a run would.
import { Agent, getAllMcpTools, MCPServerStreamableHttp, RunContext } from '@openai/agents';
import type { FunctionTool } from '@openai/agents';
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
