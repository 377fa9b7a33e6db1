import type { Command } from 'commander';
import { leaf, session, type RunContext } from '../context.js';
import { printFields, printJson, printTable } from '../output.js';
import { collect, parseToolMappings } from '../parse.js';
import type { McpConfig } from '@vmcp/sdk';

/** MCP configs: the virtual MCP servers, each a set of tools from the tenant's connections. */
export function registerConfigs(program: Command, ctx: RunContext): void {
  const configs = program.command('configs').description('MCP configs (virtual MCP servers): which tools of which connections an agent sees');

  leaf(configs, 'create <name>', 'create an MCP config')
    .option('--tools <connection:tools>', '<connection>:<tool>[,<tool>…], or <connection>:* for every tool of it; repeatable', collect)
    .option('--description <text>', 'what the config is for')
    .option('--capture-payloads', "store each call's arguments and result in the audit trail (secret-looking values redacted); default: sizes and digests only")
    .option('--no-sampling', "an upstream may not ask the agent's model for sampling during this config's calls")
    .option('--no-elicitation', "an upstream may not ask the agent's user for input (elicitation) during this config's calls")
    .addHelpText('after', '\nExample:\n  vmcp configs create support --tools github:list_issues,create_issue --tools docs:* --no-sampling\n')
    .action(async (name: string, o: { tools?: string[]; description?: string; capturePayloads?: boolean; sampling: boolean; elicitation: boolean }, cmd: Command) => {
      const s = session(ctx, cmd);
      const connection_tool_mappings = parseToolMappings(o.tools ?? []);
      const reply = await s.client().configs.create({
        name,
        ...(o.description !== undefined ? { description: o.description } : {}),
        connection_tool_mappings,
        ...(o.capturePayloads ? { audit: { capture_payloads: true } } : {}),
        ...(!o.sampling || !o.elicitation ? { client_requests: { sampling: o.sampling, elicitation: o.elicitation } } : {}),
      });
      if (s.json) return printJson(s.io, reply);
      printConfig(s.io, reply.config);
    });

  leaf(configs, 'list', 'list MCP configs').action(async (_o: unknown, cmd: Command) => {
    const s = session(ctx, cmd);
    const all = [];
    for await (const c of s.client().configs.iterate()) all.push(c);
    if (s.json) return printJson(s.io, { configs: all });
    printTable(s.io, 'MCP configs', ['id', 'name', 'tools', 'mcp_server_url'], all.map((c) => [c.id, c.name, toolsOf(c), c.mcp_server_url]));
  });

  leaf(configs, 'get <id>', 'show one MCP config').action(async (id: string, _o: unknown, cmd: Command) => {
    const s = session(ctx, cmd);
    const reply = await s.client().configs.get(id);
    if (s.json) return printJson(s.io, reply);
    printConfig(s.io, reply.config);
  });

  leaf(configs, 'delete <id>', 'delete an MCP config (its URL stops working at once)').action(async (id: string, _o: unknown, cmd: Command) => {
    const s = session(ctx, cmd);
    const reply = await s.client().configs.delete(id);
    if (s.json) return printJson(s.io, reply);
    s.io.stdout.write(`deleted config ${id}\n`);
  });
}

/** `github:list_issues,create_issue docs:*` */
function toolsOf(c: McpConfig): string {
  return c.connection_tool_mappings.map((m) => `${m.connection_name}:${m.tools.join(',')}`).join(' ');
}

/** What an upstream may ask the agent: `sampling elicitation`, one of them, or `none` (absent from a gateway that predates the option). */
function requestsOf(c: McpConfig): string | undefined {
  const allowed = (c as { client_requests?: McpConfig['client_requests'] }).client_requests;
  if (!allowed) return undefined;
  return (['sampling', 'elicitation'] as const).filter((k) => allowed[k]).join(' ') || 'none';
}

function printConfig(io: RunContext['io'], c: McpConfig): void {
  printFields(io, [
    ['id', c.id],
    ['name', c.name],
    ['description', c.description],
    ['tools', toolsOf(c)],
    ['audit', c.audit.capture_payloads ? 'arguments and results (redacted)' : 'sizes and digests'],
    ['client_requests', requestsOf(c)],
    ['mcp_server_url', c.mcp_server_url],
    ['created_at', c.created_at],
    ['updated_at', c.updated_at],
  ]);
}
