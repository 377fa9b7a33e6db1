// The part of every example that your backend does, not your agent: it holds the tenant
// API key, mints a short-lived session token for the end user the run is for, and hands
// the agent only that token and the config's URL.
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

/**
 * Reads VMCP_URL, VMCP_API_KEY, VMCP_CONFIG_ID, VMCP_IDENTIFIER (and optionally VMCP_TOOL,
 * VMCP_TOOL_ARGS) from the environment, mints a token, runs the example's agent with it
 * and prints what the agent saw. Failures set the exit code.
 */
export async function runFromEnvironment(run: (opts: RunOptions) => Promise<RunResult>): Promise<void> {
  try {
    const env = process.env;
    const need = (name: string): string => {
      const value = env[name];
      if (!value) throw new Error(`${name} is not set (see examples/README.md)`);
      return value;
    };
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
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  }
}
