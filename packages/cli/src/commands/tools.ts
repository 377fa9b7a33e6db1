import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { leaf, session, type RunContext } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { printJson, printTable, short } from '../output.js';
import { parseParams } from '../parse.js';
import type { ExecuteToolResult } from '@vmcp/sdk';
import { readAll } from '../secrets.js';

interface RunOptions {
  identifier: string;
  config?: string;
  connection?: string;
  params?: string;
  paramsFile?: string;
  agentRunId?: string;
}

/** The tool catalog, what one user's agent would see, and calling a tool as that user. */
export function registerTools(program: Command, ctx: RunContext): void {
  const tools = program.command('tools').description('list tools and run them (execute_tool)');

  leaf(tools, 'list', "the catalog's tool definitions")
    .option('--connector <id>', 'only this connector')
    .action(async (o: { connector?: string }, cmd: Command) => {
      const s = session(ctx, cmd);
      const reply = await s.client().tools.catalog(o.connector ? { connector: o.connector } : {});
      if (s.json) return printJson(s.io, reply);
      printTable(s.io, 'tools', ['name', 'connector', 'description'], reply.tools.map((t) => [t.name, t.connector, short(t.description)]));
    });

  leaf(tools, 'scoped', "the tools one user's agent sees through a config")
    .requiredOption('--config <id>', 'MCP config id')
    .requiredOption('--identifier <id>', 'the user')
    .action(async (o: { config: string; identifier: string }, cmd: Command) => {
      const s = session(ctx, cmd);
      const reply = await s.client().tools.scoped({ config_id: o.config, identifier: o.identifier });
      if (s.json) return printJson(s.io, reply);
      printTable(
        s.io,
        'tools',
        ['name', 'connection', 'connector', 'description'],
        reply.tools.map((t) => [t.name, t.connection_name, t.connector, short(t.description)]),
      );
      // A connection whose discovery failed just now: its tools are missing from this list
      // (a server older than `unavailable` sends none).
      for (const u of reply.unavailable ?? []) {
        s.io.stderr.write(`warning: the tools of connection "${u.connection_name}" are missing: discovery failed (${u.code}: ${short(u.message, 200)})\n`);
      }
    });

  leaf(tools, 'run <tool_name>', 'call a tool as a user, through a config or straight on a connection (exit code 1 when the tool reports an error)')
    .requiredOption('--identifier <id>', 'the user whose connected account is used')
    .option('--config <id>', 'through this MCP config (tool names as the config shows them)')
    .option('--connection <name>', 'straight on this connection')
    .option('--params <json>', 'the tool arguments, a JSON object')
    .option('--params-file <path>', 'read the arguments from a JSON file, or - for stdin')
    .option('--agent-run-id <id>', 'your agent run id, recorded in the audit log')
    .addHelpText('after', `\nExample:\n  vmcp tools run echo --identifier alice --config cfg_123 --params '{"text": "hi"}'\n`)
    .action(async (toolName: string, o: RunOptions, cmd: Command) => {
      const s = session(ctx, cmd);
      const target = o.config && !o.connection ? { config_id: o.config } : o.connection && !o.config ? { connection_name: o.connection } : undefined;
      if (!target) throw usageError('give exactly one of --config <id> or --connection <name>');
      if (o.params !== undefined && o.paramsFile !== undefined) throw usageError('give --params or --params-file, not both');
      const inline = o.params !== undefined ? parseParams(o.params, '--params') : undefined;
      // Resolve the key before reading stdin, so a missing key fails without waiting for input.
      const vmcp = s.client();
      const params = inline ?? (o.paramsFile !== undefined ? await readParamsFile(s.io, o.paramsFile) : undefined);
      const reply = await vmcp.tools.execute({
        tool_name: toolName,
        identifier: o.identifier,
        ...(params ? { params } : {}),
        ...target,
        ...(o.agentRunId ? { agent_run_id: o.agentRunId } : {}),
      });
      if (s.json) printJson(s.io, reply);
      else {
        s.io.stdout.write(renderResult(reply));
        s.io.stderr.write(`execution_id: ${reply.execution_id}\n`);
      }
      if (!reply.successful) throw new CliError('TOOL_ERROR', reply.error ?? `${toolName} reported an error`);
    });
}

async function readParamsFile(io: RunContext['io'], path: string): Promise<Record<string, unknown>> {
  let text: string;
  if (path === '-') text = await readAll(io);
  else {
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw usageError(`--params-file: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  return parseParams(text, '--params-file');
}

/** The tool's output for a reader: its text, a note for other content, else its data as JSON. */
export function renderResult(r: Pick<ExecuteToolResult, 'content' | 'data'>): string {
  const parts = (r.content ?? []).map((c) => {
    const item = c as { type: string; text?: string; mimeType?: string; resource?: { uri?: string } };
    if (item.type === 'text' && typeof item.text === 'string') return item.text;
    if (item.type === 'image' || item.type === 'audio') return `[${item.type} ${item.mimeType ?? ''}]`.replace(' ]', ']');
    if (item.type === 'resource' || item.type === 'resource_link') return `[${item.type} ${item.resource?.uri ?? (c as { uri?: string }).uri ?? ''}]`;
    return JSON.stringify(c);
  });
  if (parts.length === 0 && r.data !== undefined && r.data !== null) return `${JSON.stringify(r.data, null, 2)}\n`;
  return parts.length ? `${parts.join('\n')}\n` : '';
}
