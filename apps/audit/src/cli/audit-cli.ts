import { parseArgs } from 'node:util';
import { loadConfig, type VmcpConfig } from '@vmcp/config';
import { TenantId, VmcpError, type ChainVerification } from '@vmcp/contracts';
import { Bus, serviceInbox, verifyAuditChain } from '@vmcp/messaging';

/** Reply subjects of the command: the audit user may subscribe to these and no other inbox. */
export const CLI_INBOX_PREFIX = serviceInbox('audit');

export const USAGE = `usage: npm run audit -- <command> [options]

commands:
  verify --tenant <ten_id>   walk the tenant's audit hash chain and report the first broken link

options:
  --from <seq>   first record to check (default: the oldest kept)
  --to <seq>     last record to check (default: the newest)
  --json         print JSON
  -h, --help     this text

Runs against the running audit service over NATS, with its configuration (NATS_URL,
NATS_USER, NATS_PASSWORD). Exit code 0: the chain verifies; 1: it is broken, or the
request was refused.`;

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** Exit codes: 0 verified, 1 broken or refused, 2 usage, 69 NATS unreachable, 78 configuration. */
type Exit = 0 | 1 | 2 | 69 | 78;

class UsageError extends Error {}

interface Verify {
  tenantId: string;
  from?: number;
  to?: number;
}

function seqOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name}: must be a record number (1 or more)`);
  return n;
}

function parseCommand(argv: string[]): { command?: Verify; json: boolean; help: boolean } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      tenant: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [name, ...rest] = positionals;
  if (values.help || name === 'help') return { json: values.json, help: true };
  if (name === undefined) throw new UsageError('a command is required');
  if (name !== 'verify') throw new UsageError(`unknown command "${name}"`);
  if (rest.length) throw new UsageError(`verify: unexpected argument "${rest[0]}"`);
  const tenant = TenantId.safeParse(values.tenant);
  if (!tenant.success) throw new UsageError(values.tenant === undefined ? 'verify: --tenant <ten_id> is required' : `--tenant: ${tenant.error.issues[0]?.message ?? 'invalid'}`);
  const from = seqOption('from', values.from);
  const to = seqOption('to', values.to);
  if (from !== undefined && to !== undefined && from > to) throw new UsageError('--from must not be after --to');
  return { json: values.json, help: false, command: { tenantId: tenant.data, ...(from ? { from } : {}), ...(to ? { to } : {}) } };
}

/** One line on what was checked and whether it holds. */
export function describeVerification(tenantId: string, v: ChainVerification): string {
  const range = v.first_seq === null ? 'no records' : `records ${v.first_seq}..${v.last_seq}`;
  const anchor = v.anchor_seq > 0 ? `, from the anchor after purged record ${v.anchor_seq}` : '';
  const b = v.first_broken;
  if (v.ok || !b) return `${tenantId}: OK, ${v.checked} checked (${range}${anchor})${v.last_hash ? `, last hash ${v.last_hash}` : ''}`;
  return `${tenantId}: BROKEN at record ${b.seq}: ${b.reason}${b.event_id ? ` (event ${b.event_id})` : ''}; ${v.checked} checked before it`;
}

/** Runs one command; resolves to the process exit code. */
export async function runAuditCli(argv: string[], io: CliIo, options: { env?: NodeJS.ProcessEnv } = {}): Promise<Exit> {
  let parsed: ReturnType<typeof parseCommand>;
  try {
    parsed = parseCommand(argv);
  } catch (err) {
    io.err(`vmcp audit: ${(err as Error).message}`);
    io.err('run "npm run audit -- --help" for usage');
    return 2;
  }
  if (parsed.help || !parsed.command) {
    io.out(USAGE);
    return 0;
  }
  let config: VmcpConfig;
  try {
    config = options.env ? loadConfig('audit', options.env) : loadConfig('audit');
  } catch (err) {
    io.err(`vmcp audit: ${(err as Error).message}`);
    return 78;
  }
  let bus: Bus;
  try {
    bus = await Bus.connect({
      url: config.nats.url,
      name: 'vmcp-audit-cli',
      user: config.nats.user,
      password: config.nats.password,
      timeoutMs: Math.max(config.busTimeoutMs, 30_000),
      inboxPrefix: CLI_INBOX_PREFIX,
    });
  } catch (err) {
    io.err(`vmcp audit: cannot connect to NATS at ${config.nats.url}: ${(err as Error).message}`);
    return 69;
  }
  try {
    const { tenantId, from, to } = parsed.command;
    const result = await verifyAuditChain(bus, { tenant_id: tenantId, ...(from ? { from_seq: from } : {}), ...(to ? { to_seq: to } : {}) });
    io.out(parsed.json ? JSON.stringify({ tenant_id: tenantId, ...result }, null, 2) : describeVerification(tenantId, result));
    return result.ok ? 0 : 1;
  } catch (err) {
    if (!(err instanceof VmcpError)) throw err;
    const hint = err.code === 'UNAVAILABLE' || err.code === 'DEADLINE_EXCEEDED' ? ' (is the audit service running, and may this NATS user publish to vmcp.audit.v1.chain.verify?)' : '';
    io.err(`vmcp audit: ${err.code}: ${err.message}${hint}`);
    return 1;
  } finally {
    await bus.close().catch(() => undefined);
  }
}
