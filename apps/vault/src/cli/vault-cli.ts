import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loadConfig, type VmcpConfig } from '@vmcp/config';
import { KeyRotationId, TenantId, VmcpError, vaultKeys } from '@vmcp/contracts';
import { Bus, describeZodError, serviceInbox } from '@vmcp/messaging';

/**
 * Reply subjects of the command: the vault's NATS user may subscribe to these and no other
 * inbox (infra/k8s/base/nats/permissions.conf), so it cannot read replies meant for other services.
 */
export const CLI_INBOX_PREFIX = serviceInbox('vault');

export const USAGE = `usage: npm run vault -- <command> [options]

commands:
  rotate-master-key          re-wrap every tenant data key with the current master key
  rotate-data-key <ten_id>   a new data key for the tenant; its credentials are re-encrypted
  rotation <rot_id>          one rotation: status and progress
  rotations                  rotations, newest first (filters: --scope, --tenant, --status)

options:
  --wait         follow the rotation until it is COMPLETED or FAILED (exit 1 if FAILED)
  --json         print JSON
  --scope <s>    master | tenant           (rotations)
  --tenant <id>  ten_…                     (rotations)
  --status <s>   RUNNING | COMPLETED | FAILED (rotations)
  -h, --help     this text

Runs against the running vault over NATS, with the vault's own configuration
(NATS_URL, NATS_USER, NATS_PASSWORD, VMCP_MASTER_KEY or VMCP_MASTER_KEY_FILE, …).
Rotations run inside the vault: stopping this command does not stop them.`;

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export interface CliOptions {
  /** The environment to configure from; the process's own when unset. */
  readonly env?: NodeJS.ProcessEnv;
  /** How often `--wait` asks for progress. */
  readonly pollMs?: number;
}

/** Exit codes: 0 done, 1 refused or FAILED, 2 usage, 69 NATS unreachable, 78 configuration. */
type Exit = 0 | 1 | 2 | 69 | 78;

type Command =
  | { kind: 'start-master' }
  | { kind: 'start-tenant'; tenantId: string }
  | { kind: 'get'; id: string }
  | { kind: 'list'; filter: { scope?: vaultKeys.KeyRotationScope; tenant_id?: string; status?: vaultKeys.KeyRotationStatus } };

class UsageError extends Error {}

function parseCommand(argv: string[]): { command?: Command; wait: boolean; json: boolean; help: boolean } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      wait: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      scope: { type: 'string' },
      tenant: { type: 'string' },
      status: { type: 'string' },
    },
  });
  const [name, ...args] = positionals;
  const flags = { wait: values.wait, json: values.json, help: values.help };
  if (values.help || name === 'help') return { ...flags, help: true };
  const arity = (n: number) => {
    if (args.length !== n) throw new UsageError(`${name}: expected ${n === 0 ? 'no arguments' : `${n} argument`}, got ${args.length}`);
  };
  const filters = values.scope !== undefined || values.tenant !== undefined || values.status !== undefined;
  if (filters && name !== 'rotations') throw new UsageError('--scope, --tenant and --status go with "rotations"');
  if (values.wait && name === 'rotations') throw new UsageError('--wait goes with one rotation, not "rotations"');
  let command: Command;
  switch (name) {
    case 'rotate-master-key':
      arity(0);
      command = { kind: 'start-master' };
      break;
    case 'rotate-data-key': {
      arity(1);
      const tenant = TenantId.safeParse(args[0]);
      if (!tenant.success) throw new UsageError(`rotate-data-key: <tenant_id> ${tenant.error.issues[0]?.message ?? 'is invalid'}`);
      command = { kind: 'start-tenant', tenantId: tenant.data };
      break;
    }
    case 'rotation': {
      arity(1);
      const id = KeyRotationId.safeParse(args[0]);
      if (!id.success) throw new UsageError(`rotation: <rotation_id> ${id.error.issues[0]?.message ?? 'is invalid'}`);
      command = { kind: 'get', id: id.data };
      break;
    }
    case 'rotations': {
      arity(0);
      const filter = vaultKeys.listRotations.request
        .pick({ scope: true, tenant_id: true, status: true })
        .safeParse({ scope: values.scope, tenant_id: values.tenant, status: values.status });
      if (!filter.success) throw new UsageError(`rotations: ${describeZodError(filter.error).replace('tenant_id', '--tenant')}`);
      command = { kind: 'list', filter: filter.data };
      break;
    }
    case undefined:
      throw new UsageError('a command is required');
    default:
      throw new UsageError(`unknown command "${name}"`);
  }
  return { ...flags, command };
}

/** One line per rotation: what, towards which key, how far. */
export function describeRotation(r: vaultKeys.KeyRotation): string {
  const what = r.scope === 'master' ? `master -> ${r.target_kek_id}` : `tenant ${r.tenant_id} -> v${r.target_version}`;
  const pct = r.total > 0 ? ` (${Math.floor((100 * r.done) / r.total)}%)` : '';
  return `${r.id}  ${what}  ${r.status}  ${r.done}/${r.total}${pct}${r.error ? `  error: ${r.error}` : ''}`;
}

function hint(err: VmcpError): string {
  switch (err.code) {
    case 'UNAVAILABLE':
    case 'DEADLINE_EXCEEDED':
      return ' (is the vault running, and may this NATS user publish to vmcp.vault.v1.keys.>?)';
    default:
      return '';
  }
}

/** Runs one command; resolves to the process exit code. Never prints a key. */
export async function runVaultCli(argv: string[], io: CliIo, options: CliOptions = {}): Promise<Exit> {
  let parsed: ReturnType<typeof parseCommand>;
  try {
    parsed = parseCommand(argv);
  } catch (err) {
    io.err(`vmcp vault: ${(err as Error).message}`);
    io.err('run "npm run vault -- --help" for usage');
    return 2;
  }
  if (parsed.help || !parsed.command) {
    io.out(USAGE);
    return 0;
  }

  let config: VmcpConfig;
  try {
    config = options.env ? loadConfig('vault', options.env) : loadConfig('vault');
  } catch (err) {
    io.err(`vmcp vault: ${(err as Error).message}`);
    return 78;
  }
  // The command only talks to the vault; it has no use for the master keys it just loaded.
  for (const key of [config.masterKey, ...config.previousMasterKeys]) key.fill(0);

  let bus: Bus;
  try {
    bus = await Bus.connect({
      url: config.nats.url,
      name: 'vmcp-vault-cli',
      user: config.nats.user,
      password: config.nats.password,
      timeoutMs: config.busTimeoutMs,
      inboxPrefix: CLI_INBOX_PREFIX,
    });
  } catch (err) {
    io.err(`vmcp vault: cannot connect to NATS at ${config.nats.url}: ${(err as Error).message}`);
    return 69;
  }
  try {
    return await execute(bus, parsed.command, parsed, io, options.pollMs ?? 1000);
  } catch (err) {
    if (!(err instanceof VmcpError)) throw err;
    io.err(`vmcp vault: ${err.code}: ${err.message}${hint(err)}`);
    return 1;
  } finally {
    await bus.close().catch(() => undefined);
  }
}

async function execute(bus: Bus, command: Command, flags: { wait: boolean; json: boolean }, io: CliIo, pollMs: number): Promise<Exit> {
  if (command.kind === 'list') {
    const all: vaultKeys.KeyRotation[] = [];
    let pageToken: string | undefined;
    do {
      const page = await bus.request(vaultKeys.listRotations, { ...command.filter, page_size: 200, page_token: pageToken });
      all.push(...page.key_rotations);
      pageToken = page.next_page_token;
    } while (pageToken);
    if (flags.json) io.out(JSON.stringify({ key_rotations: all }, null, 2));
    else if (all.length === 0) io.out('no key rotations');
    else for (const r of all) io.out(describeRotation(r));
    return 0;
  }

  let { key_rotation: rotation } =
    command.kind === 'start-master'
      ? await bus.request(vaultKeys.startMasterRotation, {})
      : command.kind === 'start-tenant'
        ? await bus.request(vaultKeys.startTenantRotation, { tenant_id: command.tenantId })
        : await bus.request(vaultKeys.getRotation, { id: command.id });
  let shown = '';
  for (;;) {
    const line = describeRotation(rotation);
    if (!flags.json && line !== shown) io.out(line);
    shown = line;
    if (!flags.wait || rotation.status !== 'RUNNING') break;
    await sleep(pollMs);
    ({ key_rotation: rotation } = await bus.request(vaultKeys.getRotation, { id: rotation.id }));
  }
  if (flags.json) io.out(JSON.stringify({ key_rotation: rotation }, null, 2));
  return flags.wait && rotation.status === 'FAILED' ? 1 : 0;
}
