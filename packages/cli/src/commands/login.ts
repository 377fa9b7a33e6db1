import { Vmcp } from '@vmcp/sdk';
import type { Command } from 'commander';
import { DEFAULT_URL, loadConfig, profileName, saveProfile } from '../config.js';
import { leaf, session, VERSION, type RunContext } from '../context.js';
import { printJson } from '../output.js';
import { readSecret } from '../secrets.js';

/** Stores a key in the config file (mode 0600), read from stdin or a hidden prompt. */
export function registerLogin(program: Command, ctx: RunContext): void {
  leaf(program, 'login', 'store an API key (or with --admin the admin key) in the config file; the key is read from stdin or a hidden prompt')
    .option('--admin', 'store the platform admin key (for `vmcp tenants`)')
    .option('--no-verify', 'save without checking the key against the gateway')
    .addHelpText('after', '\nExample:\n  vmcp login --url https://vmcp.example.com --profile prod < key.txt\n')
    .action(async (o: { admin?: boolean; verify: boolean }, cmd: Command) => {
      const s = session(ctx, cmd);
      const env = s.io.env;
      const { name } = profileName(s.globals.profile, env);
      const url = (s.globals.url || env.VMCP_URL || loadConfig(env).file.profiles[name]?.url || DEFAULT_URL).replace(/\/+$/, '');
      const key = await readSecret(s.io, o.admin ? 'admin key' : 'API key');
      ctx.secrets.push(key);
      if (o.verify) {
        const vmcp = new Vmcp({ baseUrl: url, apiKey: key, userAgent: `vmcp-cli/${VERSION}`, ...(s.io.fetch ? { fetch: s.io.fetch } : {}) });
        if (o.admin) await vmcp.tenants.list({ page_size: 1 });
        else await vmcp.connections.list({ page_size: 1 });
      }
      const path = saveProfile(env, name, { ...(s.globals.url ? { url } : {}), ...(o.admin ? { admin_key: key } : { api_key: key }) });
      if (s.json) return printJson(s.io, { profile: name, path, url });
      s.io.stdout.write(`saved the ${o.admin ? 'admin key' : 'API key'} for ${url} to profile "${name}" in ${path}\n`);
    });
}
