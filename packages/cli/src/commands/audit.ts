import type { Command } from 'commander';
import { leaf, session, type RunContext } from '../context.js';
import { CliError } from '../errors.js';
import { printFields, printJson } from '../output.js';
import { parsePositiveInt } from '../parse.js';

/** The tenant's tamper-evident audit chain. */
export function registerAudit(program: Command, ctx: RunContext): void {
  const audit = program.command('audit').description("the tenant's audit hash chain");

  leaf(audit, 'verify', 'verify the audit hash chain (exit code 1 when it is broken)')
    .option('--from <seq>', 'first sequence number to check')
    .option('--to <seq>', 'last sequence number to check')
    .action(async (o: { from?: string; to?: string }, cmd: Command) => {
      const s = session(ctx, cmd);
      const range = {
        ...(o.from !== undefined ? { from: parsePositiveInt(o.from, '--from') } : {}),
        ...(o.to !== undefined ? { to: parsePositiveInt(o.to, '--to') } : {}),
      };
      const r = await s.client().audit.verify(range);
      if (s.json) printJson(s.io, r);
      else
        printFields(s.io, [
          ['ok', r.ok],
          ['checked', r.checked],
          ['first_seq', r.first_seq],
          ['last_seq', r.last_seq],
          ['last_hash', r.last_hash],
          ...(r.first_broken ? ([['first_broken', `seq ${r.first_broken.seq} (${r.first_broken.reason})`]] as const) : []),
        ]);
      if (!r.ok) {
        const where = r.first_broken ? ` at seq ${r.first_broken.seq} (${r.first_broken.reason})` : '';
        throw new CliError('AUDIT_CHAIN_BROKEN', `the audit chain does not verify${where}`);
      }
    });
}
