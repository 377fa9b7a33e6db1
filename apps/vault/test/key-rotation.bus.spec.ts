import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { INestMicroservice } from '@nestjs/common';
import { loadConfig } from '@vmcp/config';
import { newId, vault, vaultKeys } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import { createBusServiceApp } from '@vmcp/runtime';
import { createLogger, startTelemetry } from '@vmcp/telemetry';
import { databaseEnv, freePort, NATS_PERMISSIONS_FILE, natsUsers, startNatsServer, type NatsServerHandle } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_INBOX_PREFIX, runVaultCli } from '../src/cli/vault-cli.js';
import { VaultModule } from '../src/vault.module.js';

// Key rotation over a real bus under the production permission file: typed errors for bad
// input, and the operators' command (`npm run vault`) running as the vault's own NATS user.

describe('key rotations over the bus, and the operators’ command', () => {
  const creds = natsUsers();
  const db = databaseEnv('sqlite');
  let nats: NatsServerHandle;
  let app: INestMicroservice;
  let vaultBus: Bus;
  let edge: Bus;
  const extra: Bus[] = [];
  let env: Record<string, string>;

  const as = async (user: 'edge' | 'executor' | 'vault', inboxPrefix = creds.users[user]!.inboxPrefix) => {
    const bus = await Bus.connect({ url: nats.url, name: `test-as-${user}`, user, password: creds.users[user]!.password, timeoutMs: 1500, inboxPrefix });
    extra.push(bus);
    return bus;
  };

  /** Runs the command in-process; what it printed, and its exit code. */
  async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runVaultCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, { env, pollMs: 20 });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  async function tenantWithCredentials(n: number): Promise<string> {
    const tenant = newId('ten');
    for (let i = 0; i < n; i++) {
      await edge.request(vault.storeCredential, { tenant_id: tenant, account_id: newId('ca'), auth_type: 'api_key', secret: { api_key: `k-${i}` } });
    }
    return tenant;
  }

  beforeAll(async () => {
    nats = await startNatsServer({ configFile: NATS_PERMISSIONS_FILE, env: creds.serverEnv, jetstream: false });
    env = {
      ...db.env,
      NODE_ENV: 'test',
      NATS_URL: nats.url,
      NATS_USER: 'vault',
      NATS_PASSWORD: creds.users.vault!.password,
      VMCP_MASTER_KEY: randomBytes(32).toString('base64'),
    };
    // The vault as production wires it, under its own restricted NATS user.
    const config = loadConfig('vault', env);
    vaultBus = await Bus.connect({ url: nats.url, name: 'vmcp-vault', user: 'vault', password: creds.users.vault!.password, inboxPrefix: creds.users.vault!.inboxPrefix, timeoutMs: 3000 });
    const core = { config, bus: vaultBus, telemetry: startTelemetry(config), logger: createLogger('vault', 'silent') };
    app = await createBusServiceApp(core, { service: 'vault', module: (c) => VaultModule.forRoot(c) });
    edge = await as('edge');
  });

  afterAll(async () => {
    await Promise.allSettled(extra.map((b) => b.close()));
    await app?.close();
    await vaultBus?.close().catch(() => undefined);
    await nats?.stop();
    await db.drop();
  });

  it('answers malformed, foreign and impossible requests with typed errors, never a timeout', async () => {
    const raw = async (subject: string, body: string) => (await edge.connection.request(subject, body, { timeout: 3000 })).json();
    const subjects = [vaultKeys.startMasterRotation, vaultKeys.startTenantRotation, vaultKeys.getRotation, vaultKeys.listRotations].map((r) => r.subject);
    for (const subject of subjects) {
      expect(await raw(subject, 'not json{')).toEqual({ error: { code: 'INVALID_ARGUMENT', message: 'request body is not valid JSON' } });
      expect(await raw(subject, JSON.stringify({ unexpected: true }))).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    }
    expect(await raw(vaultKeys.startTenantRotation.subject, JSON.stringify({ tenant_id: 'acme' }))).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    expect(await raw(vaultKeys.getRotation.subject, JSON.stringify({ id: 'rot_<script>' }))).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    expect(await raw(vaultKeys.listRotations.subject, JSON.stringify({ page_size: 10_000 }))).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    // Well-formed but impossible: typed, rehydrated by the caller.
    const unknown = newId('rot');
    await expect(edge.request(vaultKeys.getRotation, { id: unknown })).rejects.toMatchObject({ code: 'NOT_FOUND', message: `key rotation ${unknown} not found` });
    await expect(edge.request(vaultKeys.startTenantRotation, { tenant_id: newId('ten') })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
  });

  it('rotates a tenant data key from the command line and follows it to COMPLETED', async () => {
    const tenant = await tenantWithCredentials(3);
    const started = await cli('rotate-data-key', tenant, '--wait', '--json');
    expect(started).toMatchObject({ code: 0, err: '' });
    const { key_rotation: job } = JSON.parse(started.out) as { key_rotation: vaultKeys.KeyRotation };
    expect(job).toMatchObject({ scope: 'tenant', tenant_id: tenant, target_version: 2, status: 'COMPLETED', total: 3, done: 3 });

    expect(await cli('rotation', job.id)).toEqual({ code: 0, out: `${job.id}  tenant ${tenant} -> v2  COMPLETED  3/3 (100%)`, err: '' });
    const listed = await cli('rotations', '--tenant', tenant, '--json');
    expect(JSON.parse(listed.out)).toEqual({ key_rotations: [job] });
    expect((await cli('rotations', '--status', 'FAILED')).out).toBe('no key rotations');

    const master = await cli('rotate-master-key', '--wait');
    expect(master.code).toBe(0);
    expect(master.out).toMatch(/^rot_\w+ {2}master -> local:[0-9a-f]{16} {2}(RUNNING|COMPLETED) {2}0\/0/m);
    expect(master.out.split('\n').at(-1)).toContain('COMPLETED');
    expect(master.out).not.toContain(env.VMCP_MASTER_KEY!);
  });

  it('says what is wrong: usage (2), refusals (1), configuration (78), NATS (69)', async () => {
    expect(await cli('--help')).toMatchObject({ code: 0, out: expect.stringContaining('usage: npm run vault -- <command>') });
    for (const argv of [[], ['rotate'], ['rotate-data-key'], ['rotate-data-key', 'acme'], ['rotation', 'ten_123456789'], ['rotations', '--status', 'DONE'], ['rotate-master-key', '--tenant', newId('ten')], ['rotations', '--wait'], ['rotate-master-key', '--force']]) {
      const run = await cli(...argv);
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.err).toMatch(/^vmcp vault: .+\nrun "npm run vault -- --help" for usage$/);
    }
    expect((await cli('rotate-data-key', 'acme')).err).toContain('rotate-data-key: <tenant_id> must be an id starting with "ten_"');

    const unknown = newId('rot');
    expect(await cli('rotation', unknown)).toMatchObject({ code: 1, err: `vmcp vault: NOT_FOUND: key rotation ${unknown} not found` });
    const bare = newId('ten');
    expect(await cli('rotate-data-key', bare)).toMatchObject({ code: 1, err: expect.stringContaining(`FAILED_PRECONDITION: tenant ${bare} has no data key yet`) });

    const saved = env;
    try {
      env = { ...saved, VMCP_MASTER_KEY_PREVIOUS: 'too-short' };
      expect(await cli('rotations')).toMatchObject({ code: 78, err: expect.stringMatching(/^vmcp vault: VMCP_MASTER_KEY_PREVIOUS \(entry 1\): must be 32 bytes/) });
      env = { ...saved, NATS_PASSWORD: 'pwrong' };
      expect(await cli('rotations')).toMatchObject({ code: 69, err: expect.stringContaining(`cannot connect to NATS at ${nats.url}`) });
      env = { ...saved, NATS_URL: `nats://127.0.0.1:${await freePort()}` };
      expect(await cli('rotations')).toMatchObject({ code: 69 });
    } finally {
      env = saved;
    }
  });

  it('lets the vault’s user manage rotations but never obtain a credential, and keeps the executor out', async () => {
    const tenant = newId('ten');
    const account_id = newId('ca');
    await edge.request(vault.storeCredential, { tenant_id: tenant, account_id, auth_type: 'api_key', secret: { api_key: 'k' } });
    const operator = await as('vault', CLI_INBOX_PREFIX);
    await expect(operator.request(vaultKeys.listRotations, {})).resolves.toMatchObject({ key_rotations: expect.any(Array) });
    const refused = /UNAVAILABLE|DEADLINE_EXCEEDED/;
    await expect(operator.request(vault.storeCredential, { tenant_id: tenant, account_id, auth_type: 'api_key', secret: { api_key: 'x' } })).rejects.toMatchObject({ code: expect.stringMatching(refused) });
    await expect(operator.request(vault.destroyCredential, { tenant_id: tenant, account_id })).rejects.toMatchObject({ code: expect.stringMatching(refused) });
    const executor = await as('executor');
    await expect(executor.request(vaultKeys.startTenantRotation, { tenant_id: tenant })).rejects.toMatchObject({ code: expect.stringMatching(refused) });
    await expect(executor.request(vaultKeys.listRotations, {})).rejects.toMatchObject({ code: expect.stringMatching(refused) });
    // Nothing was started by the refused request.
    expect(await edge.request(vaultKeys.listRotations, { tenant_id: tenant })).toEqual({ key_rotations: [] });
  });
});
