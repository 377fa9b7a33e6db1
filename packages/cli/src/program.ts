import { Command } from 'commander';
import { registerAccounts } from './commands/accounts.js';
import { registerAudit } from './commands/audit.js';
import { registerConfigs } from './commands/configs.js';
import { registerConnections } from './commands/connections.js';
import { registerLogin } from './commands/login.js';
import { registerLogs } from './commands/logs.js';
import { registerTenants } from './commands/tenants.js';
import { registerTokens } from './commands/tokens.js';
import { registerTools } from './commands/tools.js';
import { addGlobalOptionsToLeaves, VERSION, withGlobalOptions, type RunContext } from './context.js';
import { describeError } from './errors.js';
import type { CliIo } from './io.js';

/**
 * The whole command tree, writing only to `io`. Commander's own errors are thrown
 * (exitOverride) rather than exiting, so `run` prints every error the same way.
 */
export function createProgram(io: CliIo, ctx: RunContext = { io, secrets: [] }): Command {
  const program = new Command('vmcp')
    .description('Manage a vmcp gateway: tenants, connections, accounts, MCP configs, session tokens, tools and the audit log.')
    .version(VERSION, '-V, --version')
    // Options before the command are the program's; after it, the command's (connections create has its own --url).
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      // Printed by run() in the CLI's one error format instead.
      outputError: () => undefined,
    })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Keys come from the environment (VMCP_API_KEY; VMCP_ADMIN_KEY for "tenants") or from the
config file written by "vmcp login" ($VMCP_CONFIG, $XDG_CONFIG_HOME/vmcp/config.json or
~/.config/vmcp/config.json), never from arguments.`,
    );
  withGlobalOptions(program);

  registerLogin(program, ctx);
  registerTenants(program, ctx);
  registerConnections(program, ctx);
  registerAccounts(program, ctx);
  registerConfigs(program, ctx);
  registerTokens(program, ctx);
  registerTools(program, ctx);
  registerLogs(program, ctx);
  registerAudit(program, ctx);
  addGlobalOptionsToLeaves(program);
  return program;
}

/** Runs one command line (without `node` and the script) and returns the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const ctx: RunContext = { io, secrets: [] };
  const program = createProgram(io, ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    const { line, exitCode } = describeError(err, ctx.secrets);
    if (line) io.stderr.write(line);
    return exitCode;
  }
}
