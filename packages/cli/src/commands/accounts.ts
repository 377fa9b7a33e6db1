import type { Command } from 'commander';
import { leaf, session, type RunContext } from '../context.js';
import { usageError } from '../errors.js';
import { printFields, printJson, printTable } from '../output.js';
import { parseParams } from '../parse.js';
import type { ConnectedAccount, UpsertConnectedAccountInput } from '@vmcp/sdk';
import { readAll, readBasic, readSecret } from '../secrets.js';

interface ConnectOptions {
  connection: string;
  identifier: string;
  tokenStdin?: boolean;
  apiKeyStdin?: boolean;
  basicStdin?: boolean;
  headersStdin?: boolean;
  authLink?: boolean;
  redirectUrl?: string;
}

const MODES = ['--token-stdin', '--api-key-stdin', '--basic-stdin', '--headers-stdin', '--auth-link'] as const;

/** Connected accounts: one user's credential on one connection, read from stdin only. */
export function registerAccounts(program: Command, ctx: RunContext): void {
  const accounts = program.command('accounts').description("users' connected accounts (credentials are read from stdin, never from arguments)");

  leaf(accounts, 'connect', "store a user's credential for a connection, or get an OAuth authorization link")
    .requiredOption('--connection <name>', 'connection name')
    .requiredOption('--identifier <id>', "the user's identifier in your system")
    .option('--token-stdin', 'read a bearer token from stdin (or a hidden prompt)')
    .option('--api-key-stdin', 'read an API key from stdin (or a hidden prompt)')
    .option('--basic-stdin', 'read "username:password" (or two lines) from stdin (or prompts)')
    .option('--headers-stdin', 'read a JSON object of header names to values from stdin (custom_headers)')
    .option('--auth-link', 'create an OAuth authorization link for the user to open (oauth2 connections)')
    .option('--redirect-url <url>', 'where the user lands after authorizing (with --auth-link)')
    .addHelpText('after', '\nExample:\n  printf %s "$GITHUB_TOKEN" | vmcp accounts connect --connection github --identifier alice --token-stdin\n')
    .action(async (o: ConnectOptions, cmd: Command) => {
      const s = session(ctx, cmd);
      const chosen = MODES.filter((m) => o[camel(m)]);
      if (chosen.length !== 1) throw usageError(`give exactly one of ${MODES.join(', ')}`);
      if (o.redirectUrl && !o.authLink) throw usageError('--redirect-url goes with --auth-link');
      if (o.authLink) {
        const reply = await s.client().connectedAccounts.authorizationLink({
          connection_name: o.connection,
          identifier: o.identifier,
          ...(o.redirectUrl ? { redirect_url: o.redirectUrl } : {}),
        });
        if (s.json) return printJson(s.io, reply);
        printFields(s.io, [
          ['link', reply.link],
          ['expires_at', reply.expires_at],
          ['connected_account_id', reply.connected_account_id],
        ]);
        s.io.stderr.write('Send the link to the user: the account becomes ACTIVE once they authorize.\n');
        return;
      }
      // Resolve the key before reading stdin, so a missing key fails without waiting for input.
      const vmcp = s.client();
      const static_auth = await readStaticAuth(s.io, o);
      const reply = await vmcp.connectedAccounts.upsert({ connection_name: o.connection, identifier: o.identifier, authorization_details: { static_auth } });
      if (s.json) return printJson(s.io, reply);
      printAccount(s.io, reply.connected_account);
    });

  leaf(accounts, 'list', 'list connected accounts')
    .option('--identifier <id>', 'only this user')
    .option('--connection <name>', 'only this connection')
    .action(async (o: { identifier?: string; connection?: string }, cmd: Command) => {
      const s = session(ctx, cmd);
      const filter = { ...(o.identifier ? { identifier: o.identifier } : {}), ...(o.connection ? { connection_name: o.connection } : {}) };
      const all = [];
      for await (const a of s.client().connectedAccounts.iterate(filter)) all.push(a);
      if (s.json) return printJson(s.io, { connected_accounts: all });
      printTable(
        s.io,
        'connected accounts',
        ['id', 'connection', 'identifier', 'auth_type', 'status', 'updated_at'],
        all.map((a) => [a.id, a.connection_name, a.identifier, a.auth_type, a.status, a.updated_at]),
      );
    });

  leaf(accounts, 'get <id>', 'show one connected account').action(async (id: string, _o: unknown, cmd: Command) => {
    const s = session(ctx, cmd);
    const reply = await s.client().connectedAccounts.get(id);
    if (s.json) return printJson(s.io, reply);
    printAccount(s.io, reply.connected_account);
  });

  leaf(accounts, 'disconnect <id>', "destroy the account's credential (status DISCONNECTED, effective on the next call)").action(
    async (id: string, _o: unknown, cmd: Command) => {
      const s = session(ctx, cmd);
      const reply = await s.client().connectedAccounts.delete(id);
      if (s.json) return printJson(s.io, reply);
      printAccount(s.io, reply.connected_account);
    },
  );
}

function camel(flag: (typeof MODES)[number]): keyof ConnectOptions {
  return flag.slice(2).replace(/-(\w)/g, (_, c: string) => c.toUpperCase()) as keyof ConnectOptions;
}

async function readStaticAuth(io: RunContext['io'], o: ConnectOptions): Promise<UpsertConnectedAccountInput['authorization_details']['static_auth']> {
  if (o.tokenStdin) return { token: await readSecret(io, 'token') };
  if (o.apiKeyStdin) return { api_key: await readSecret(io, 'API key') };
  if (o.basicStdin) return readBasic(io);
  const text = io.stdin.isTTY ? await readSecret(io, 'headers (JSON object)') : await readAll(io);
  const headers = parseParams(text, 'headers on stdin');
  if (Object.values(headers).some((v) => typeof v !== 'string')) throw usageError('headers on stdin: every value must be a string');
  return { headers: headers as Record<string, string> };
}

function printAccount(io: RunContext['io'], a: ConnectedAccount): void {
  printFields(io, [
    ['id', a.id],
    ['connection', a.connection_name],
    ['identifier', a.identifier],
    ['auth_type', a.auth_type],
    ['status', a.status],
    ['created_at', a.created_at],
    ['updated_at', a.updated_at],
  ]);
}
