import 'reflect-metadata';
import { Kvm, type KV } from '@nats-io/kv';
import { policy, webhooks } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import { databaseEnv, startInProcessService, startNatsServer, uniqueName, waitFor, type InProcessService, type NatsServerHandle } from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyModule } from '../src/policy.module.js';

// Policy marks a tenant as reading its tool-call events (the event-interest bucket the audit
// service watches) before storing a webhook that takes them, and after start (then every few
// minutes) for every stored webhook that takes them, then puts its ready key.

describe('policy and tool-call event interest', () => {
  let nats: NatsServerHandle;
  let service: InProcessService;
  let client: Bus;
  let kv: KV;
  const db = databaseEnv('sqlite');
  const bucket = uniqueName('interest_');
  const env: Record<string, string> = { ...db.env, VMCP_REVOCATIONS_BUCKET: uniqueName('rev_'), VMCP_EVENT_INTEREST_BUCKET: bucket };
  const start = () => startInProcessService({ service: 'policy', natsUrl: nats.url, env, module: (core) => PolicyModule.forRoot(core) });
  const marked = async (tenant: string) => (await kv.get(`tool_calls.${tenant}`))?.operation === 'PUT';
  const newTenant = async (name: string) => (await client.request(policy.createTenant, { name })).tenant.id;

  beforeAll(async () => {
    nats = await startNatsServer();
    service = await start();
    client = await Bus.connect({ url: nats.url, name: 'interest-policy-test', timeoutMs: 3000 });
    kv = await new Kvm(client.connection).open(bucket);
  });

  afterAll(async () => {
    await client?.close();
    await service?.close();
    await nats?.stop();
    await db.drop();
  });

  it('marks a tenant whose webhook takes tool-call events before answering, and no other', async () => {
    const all = await newTenant('all-events');
    const calls = await newTenant('finished-only');
    const accounts = await newTenant('accounts-only');
    await client.request(webhooks.putWebhook, { tenant_id: all, url: 'https://hooks.example.com/a' });
    await client.request(webhooks.putWebhook, { tenant_id: calls, url: 'https://hooks.example.com/c', events: ['tool_call.finished'] });
    await client.request(webhooks.putWebhook, { tenant_id: accounts, url: 'https://hooks.example.com/b', events: ['connected_account.status_changed'] });
    expect(await marked(all)).toBe(true);
    expect(await marked(calls)).toBe(true);
    expect(await marked(accounts)).toBe(false);
    // Taking them later marks it then.
    await client.request(webhooks.putWebhook, { tenant_id: accounts, url: 'https://hooks.example.com/b', events: ['*'] });
    expect(await marked(accounts)).toBe(true);
  });

  it('marks at start the tenants whose stored webhooks take tool-call events', async () => {
    const old = await newTenant('before-the-bucket');
    const quiet = await newTenant('accounts-only-old');
    await client.request(webhooks.putWebhook, { tenant_id: old, url: 'https://hooks.example.com/old' });
    await client.request(webhooks.putWebhook, { tenant_id: quiet, url: 'https://hooks.example.com/q', events: ['connected_account.status_changed'] });
    // A new, empty bucket: as after an upgrade from a version that had none.
    await service.close();
    env.VMCP_EVENT_INTEREST_BUCKET = uniqueName('interest_');
    service = await start();
    kv = await new Kvm(client.connection).open(env.VMCP_EVENT_INTEREST_BUCKET!);
    // Marked in the background after start; then policy says it is done.
    await waitFor(async () => (await kv.get('ready.policy').catch(() => null))?.operation === 'PUT', { what: "policy's ready key" });
    expect(await marked(old)).toBe(true);
    expect(await marked(quiet)).toBe(false);
  });

  it('makes a lost bucket again', async () => {
    const tenant = await newTenant('lost-bucket');
    await kv.destroy();
    await client.request(webhooks.putWebhook, { tenant_id: tenant, url: 'https://hooks.example.com/l' });
    kv = await new Kvm(client.connection).open(env.VMCP_EVENT_INTEREST_BUCKET!);
    expect(await marked(tenant)).toBe(true);
  });
});
