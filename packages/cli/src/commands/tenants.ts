import type { Command } from 'commander';
import { leaf, session, type RunContext } from '../context.js';
import { printFields, printJson, printTable } from '../output.js';

/** Tenants, with the platform admin key (VMCP_ADMIN_KEY). */
export function registerTenants(program: Command, ctx: RunContext): void {
  const tenants = program.command('tenants').description('create and list tenants (admin key: VMCP_ADMIN_KEY)');

  leaf(tenants, 'create <name>', "create a tenant; prints its API key, which is shown only this once").action(async (name: string, _o: unknown, cmd: Command) => {
    const s = session(ctx, cmd);
    const reply = await s.client('admin').tenants.create({ name });
    if (s.json) return printJson(s.io, reply);
    printFields(s.io, [
      ['id', reply.tenant.id],
      ['name', reply.tenant.name],
      ['created_at', reply.tenant.created_at],
      ['api_key', reply.api_key],
    ]);
    s.io.stderr.write('The API key is shown only once: store it now (e.g. `vmcp login` with it on stdin).\n');
  });

  leaf(tenants, 'list', 'list tenants').action(async (_o: unknown, cmd: Command) => {
    const s = session(ctx, cmd);
    const all = [];
    for await (const t of s.client('admin').tenants.iterate()) all.push(t);
    if (s.json) return printJson(s.io, { tenants: all });
    printTable(s.io, 'tenants', ['id', 'name', 'created_at'], all.map((t) => [t.id, t.name, t.created_at]));
  });
}
