import { readFileSync } from 'node:fs';
import { Vmcp } from '@vmcp/sdk';
import type { Command } from 'commander';
import { resolveSettings, type KeyKind } from './config.js';
import type { CliIo } from './io.js';

/** One run of the CLI: its streams, and the keys in use (kept out of anything printed). */
export interface RunContext {
  readonly io: CliIo;
  readonly secrets: string[];
}

/** Options every command takes, after the command or before it (`vmcp --url … <command>`). */
export interface GlobalOptions {
  readonly url?: string;
  readonly profile?: string;
  readonly json?: boolean;
}

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Adds the global options to a command, after its own (they read better last in --help).
 * `connections create` has its own `--url` (the upstream MCP server): there the gateway
 * URL goes before the command name, `vmcp --url <gateway> connections create …`.
 */
export function withGlobalOptions(cmd: Command): Command {
  if (!cmd.options.some((o) => o.long === '--url')) {
    cmd.option('--url <url>', "gateway URL (default: $VMCP_URL, the profile's url, http://localhost:8080)");
  }
  return cmd
    .option('--profile <name>', 'config file profile (default: $VMCP_PROFILE or "default")')
    .option('--json', "print the API's JSON reply only");
}

/** Gives every command that runs something (no subcommands) the global options. */
export function addGlobalOptionsToLeaves(cmd: Command): void {
  for (const sub of cmd.commands) {
    if (sub.commands.length > 0) addGlobalOptionsToLeaves(sub);
    else withGlobalOptions(sub);
  }
}

/** A subcommand; it gets the global options once the tree is built. */
export function leaf(parent: Command, nameAndArgs: string, description: string): Command {
  return parent.command(nameAndArgs).description(description);
}

/**
 * The global options as given, the command's own first, then its parents'. With
 * `ownUrl: false` the command's `--url` is its own option, not the gateway's.
 */
export function globalsOf(cmd: Command, { ownUrl = true }: { ownUrl?: boolean } = {}): GlobalOptions {
  const out: { url?: string; profile?: string; json?: boolean } = {};
  for (let c: Command | null = cmd; c; c = c.parent) {
    const o = c.opts<GlobalOptions>();
    if (out.url === undefined && (c !== cmd || ownUrl) && o.url !== undefined) out.url = o.url;
    if (out.profile === undefined && o.profile !== undefined) out.profile = o.profile;
    if (out.json === undefined && o.json !== undefined) out.json = o.json;
  }
  return out;
}

export interface Session {
  readonly io: CliIo;
  readonly json: boolean;
  readonly globals: GlobalOptions;
  /** An SDK client with the tenant key (or the admin key); fails clearly when there is none. */
  client(kind?: KeyKind): Vmcp;
}

export function session(ctx: RunContext, cmd: Command, o: { ownUrl?: boolean } = {}): Session {
  const globals = globalsOf(cmd, o);
  return {
    io: ctx.io,
    json: globals.json === true,
    globals,
    client(kind: KeyKind = 'tenant') {
      const r = resolveSettings({ kind, urlFlag: globals.url, profileFlag: globals.profile, env: ctx.io.env });
      for (const w of r.warnings) ctx.io.stderr.write(w);
      ctx.secrets.push(r.apiKey);
      return new Vmcp({ baseUrl: r.url, apiKey: r.apiKey, userAgent: `vmcp-cli/${VERSION}`, ...(ctx.io.fetch ? { fetch: ctx.io.fetch } : {}) });
    },
  };
}
