import { Option, type Command } from 'commander';
import { leaf, session, type RunContext } from '../context.js';
import { usageError } from '../errors.js';
import { printFields, printJson, printTable } from '../output.js';
import { applySettings, collect, parseSettingsJson, type JsonObject } from '../parse.js';
import { readSecret } from '../secrets.js';
import type { Connection, CreateConnectionInput } from '@vmcp/sdk';

export const AUTH_TYPES = ['oauth2', 'api_key', 'bearer_token', 'basic', 'custom_headers', 'none'] as const;
type AuthType = (typeof AUTH_TYPES)[number];

interface CreateOptions {
  connector: string;
  authType: AuthType;
  url?: string;
  baseUrl?: string;
  setting?: string[];
  settingsJson?: string;
  clientSecretStdin?: boolean;
}

/** A tenant's connections: which connector, where it lives, how users authenticate. */
export function registerConnections(program: Command, ctx: RunContext): void {
  const connections = program.command('connections').description("the tenant's connections to MCP servers and native connectors");

  leaf(connections, 'create <name>', 'create a connection')
    .requiredOption('--connector <id>', 'connector id: mcp for any MCP server, or a native one (see `vmcp tools list`)')
    .addOption(new Option('--auth-type <type>', 'how users authenticate').choices(AUTH_TYPES).makeOptionMandatory())
    .option('--url <mcp-url>', "the upstream MCP server's Streamable HTTP URL (connector mcp); give the gateway's URL before the command: vmcp --url <gateway> connections create …")
    .option('--base-url <url>', "override of the provider's API base (self-hosted editions)")
    .option('--setting <key=value>', 'a setting; key:=<json> for a JSON value, dots nest (oauth.client_id=…); repeatable', collect)
    .option('--settings-json <json>', 'all settings as one JSON object (applied first)')
    .option('--client-secret-stdin', 'read settings.oauth.client_secret from stdin (or a hidden prompt)')
    .action(async (name: string, o: CreateOptions, cmd: Command) => {
      const s = session(ctx, cmd, { ownUrl: false });
      let settings: JsonObject = o.settingsJson ? parseSettingsJson(o.settingsJson) : {};
      if (o.url) settings.url = o.url;
      if (o.baseUrl) settings.base_url = o.baseUrl;
      settings = applySettings(settings, o.setting ?? []);
      // Resolve the key before reading stdin, so a missing key fails without waiting for input.
      const vmcp = s.client();
      if (o.clientSecretStdin) {
        const oauth = settings.oauth;
        if (oauth !== undefined && (typeof oauth !== 'object' || oauth === null || Array.isArray(oauth))) throw usageError('settings.oauth must be an object');
        settings.oauth = { ...(oauth as JsonObject | undefined), client_secret: await readSecret(s.io, 'OAuth client secret') };
      }
      const reply = await vmcp.connections.create({
        name,
        connector: o.connector,
        auth_type: o.authType,
        // Built from the user's flags; the API validates it and answers INVALID_ARGUMENT.
        settings: settings as CreateConnectionInput['settings'],
      });
      if (s.json) return printJson(s.io, reply);
      printConnection(s.io, reply.connection);
    });

  leaf(connections, 'list', 'list connections').action(async (_o: unknown, cmd: Command) => {
    const s = session(ctx, cmd);
    const all = [];
    for await (const c of s.client().connections.iterate()) all.push(c);
    if (s.json) return printJson(s.io, { connections: all });
    printTable(
      s.io,
      'connections',
      ['name', 'connector', 'auth_type', 'endpoint', 'id'],
      all.map((c) => [c.name, c.connector, c.auth_type, c.settings.url ?? c.settings.base_url, c.id]),
    );
  });

  leaf(connections, 'get <name>', 'show one connection').action(async (name: string, _o: unknown, cmd: Command) => {
    const s = session(ctx, cmd);
    const reply = await s.client().connections.get(name);
    if (s.json) return printJson(s.io, reply);
    printConnection(s.io, reply.connection);
  });

  leaf(connections, 'delete <name>', 'delete a connection').action(async (name: string, _o: unknown, cmd: Command) => {
    const s = session(ctx, cmd);
    const reply = await s.client().connections.delete(name);
    if (s.json) return printJson(s.io, reply);
    s.io.stdout.write(`deleted connection ${name}\n`);
  });
}

function printConnection(io: RunContext['io'], c: Connection): void {
  printFields(io, [
    ['id', c.id],
    ['name', c.name],
    ['connector', c.connector],
    ['auth_type', c.auth_type],
    ['settings', JSON.stringify(c.settings)],
    ['created_at', c.created_at],
    ['updated_at', c.updated_at],
  ]);
}
