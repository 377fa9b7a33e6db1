import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { webhooks } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import {
  api,
  NATS_PERMISSIONS_FILE,
  natsUsers,
  startNatsServer,
  startStack,
  waitFor,
  type ApiClient,
  type NatsServerHandle,
  type Stack,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Tenant events (account status changes from policy, tool calls from the audit service) travel
// events stream → executor → the tenant's webhook, signed Standard-Webhooks style. The stack
// runs under the production NATS permission file, with short retry delays so the retry tests
// stay fast.

interface Delivery {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly status: number;
}

interface StatusEvent {
  event_id: string;
  type: string;
  tenant_id: string;
  occurred_at: string;
  data: { connected_account_id: string; connection_name: string; identifier: string; previous_status: string; status: string };
}

/** A local webhook receiver: records every request; each path answers from its own script of statuses. */
async function startReceiver() {
  const deliveries: Delivery[] = [];
  const scripts = new Map<string, number[]>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const script = scripts.get(path);
      const status = script && script.length > 1 ? script.shift()! : (script?.[0] ?? 200);
      deliveries.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    /** Statuses to answer on a path, in order; the last one repeats. */
    script: (path: string, statuses: number[]) => scripts.set(path, [...statuses]),
    at: (path: string) => deliveries.filter((d) => d.path === path),
    all: () => [...deliveries],
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The signature recomputed here, independently of vmcp's code. */
function signatureValid(secret: string, d: Delivery): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key).update(`${String(d.headers['webhook-id'])}.${String(d.headers['webhook-timestamp'])}.${d.body}`).digest('base64');
  return d.headers['webhook-signature'] === `v1,${mac}`;
}

const eventOf = (d: Delivery) => JSON.parse(d.body) as StatusEvent;

describe('webhooks for tenant events', () => {
  let nats: NatsServerHandle;
  let stack: Stack;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let admin: ApiClient;
  const creds = natsUsers();
  const buses: Bus[] = [];

  const tenant = async (name: string) => {
    const created = await admin.post<{ api_key: string; tenant: { id: string } }>('/api/v1/tenants', { name });
    const client = api(stack.baseUrl, created.body.api_key);
    return { client, id: created.body.tenant.id, key: created.body.api_key };
  };
  const setWebhook = async (t: ApiClient, path: string, events?: string[]) => {
    const res = await t.put<{ webhook: { url: string; events: string[] }; signing_secret?: string }>('/api/v1/webhook', { url: `${receiver.url}${path}`, ...(events ? { events } : {}) });
    expect(res.status).toBe(200);
    return res.body;
  };
  const connect = async (t: ApiClient, identifier: string, token = 'tok-secret-value') => {
    if ((await t.get('/api/v1/connections/up')).status === 404) {
      await t.post('/api/v1/connections', { name: 'up', connector: 'mcp', auth_type: 'bearer_token', settings: { url: 'http://127.0.0.1:9/mcp' } });
    }
    const res = await t.post<{ connected_account: { id: string } }>('/api/v1/connected_accounts', {
      connection_name: 'up',
      identifier,
      authorization_details: { static_auth: { token } },
    });
    expect(res.status).toBe(201);
    return res.body.connected_account.id;
  };
  const disconnect = async (t: ApiClient, id: string) => expect((await t.delete(`/api/v1/connected_accounts/${id}`)).status).toBe(200);
  const as = async (service: string) => {
    const u = creds.users[service]!;
    const bus = await Bus.connect({ url: nats.url, name: `test-as-${service}`, user: u.user, password: u.password, inboxPrefix: u.inboxPrefix, timeoutMs: 1500 });
    buses.push(bus);
    return bus;
  };

  beforeAll(async () => {
    nats = await startNatsServer({ configFile: NATS_PERMISSIONS_FILE, env: creds.serverEnv });
    receiver = await startReceiver();
    stack = await startStack({
      natsUrl: nats.url,
      database: 'sqlite',
      natsUsers: creds.users,
      env: { VMCP_WEBHOOK_RETRY_BASE_MS: '50', VMCP_WEBHOOK_RETRY_MAX_MS: '200', VMCP_WEBHOOK_TIMEOUT_MS: '3000', VMCP_WEBHOOK_MAX_ATTEMPTS: '5' },
    });
    admin = api(stack.baseUrl, stack.adminKey);
  });

  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    await stack?.close();
    await receiver?.close();
    await nats?.stop();
  });

  it("delivers both status changes of an account, signed, to its own tenant's webhook only", async () => {
    const acme = await tenant('acme');
    const globex = await tenant('globex');
    const set = await setWebhook(acme.client, '/acme');
    expect(set.webhook).toMatchObject({ url: `${receiver.url}/acme`, events: ['*'] });
    const secret = set.signing_secret!;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const globexSecret = (await setWebhook(globex.client, '/globex')).signing_secret!;

    // Shown once: neither a read nor a replacement returns it again.
    const read = await acme.client.get('/api/v1/webhook');
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body)).not.toContain(secret.slice(6));
    const replaced = await setWebhook(acme.client, '/acme', ['connected_account.status_changed']);
    expect(replaced.signing_secret).toBeUndefined();
    expect(replaced.webhook.events).toEqual(['connected_account.status_changed']);

    const alice = await connect(acme.client, 'alice@example.com', 'alice-upstream-token');
    await disconnect(acme.client, alice);
    const bob = await connect(globex.client, 'bob');

    const got = await waitFor(() => receiver.at('/acme').length >= 2 && receiver.at('/acme'), { what: 'two events at /acme' });
    await waitFor(() => receiver.at('/globex').length >= 1, { what: 'one event at /globex' });
    expect(got).toHaveLength(2);
    for (const d of got) {
      expect(d.headers['content-type']).toBe('application/json');
      expect(signatureValid(secret, d)).toBe(true);
      expect(signatureValid(globexSecret, d)).toBe(false);
      expect(Math.abs(Number(d.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(300);
      expect(d.headers['webhook-id']).toBe(eventOf(d).event_id);
      expect(d.body).not.toContain('alice-upstream-token');
    }
    const events = got.map(eventOf).sort((a, b) => a.occurred_at.localeCompare(b.occurred_at));
    expect(events.map((e) => [e.data.previous_status, e.data.status])).toEqual([
      ['PENDING_AUTH', 'ACTIVE'],
      ['ACTIVE', 'DISCONNECTED'],
    ]);
    for (const e of events) {
      expect(e).toEqual({
        event_id: expect.stringMatching(/^evt_/),
        type: 'connected_account.status_changed',
        tenant_id: acme.id,
        occurred_at: expect.any(String),
        data: expect.objectContaining({ connected_account_id: alice, connection_name: 'up', identifier: 'alice@example.com' }),
      });
    }

    // The other tenant got its own event and none of acme's.
    const theirs = receiver.at('/globex').map(eventOf);
    expect(theirs.map((e) => [e.tenant_id, e.data.connected_account_id])).toEqual([[globex.id, bob]]);
    expect(receiver.at('/globex').every((d) => signatureValid(globexSecret, d))).toBe(true);

    // Re-storing a credential does not change the status: no event.
    const carol = await connect(acme.client, 'carol');
    const again = await acme.client.post('/api/v1/connected_accounts', { connection_name: 'up', identifier: 'carol', authorization_details: { static_auth: { token: 't2' } } });
    expect(again.status).toBe(200);
    await waitFor(() => receiver.at('/acme').some((d) => eventOf(d).data.identifier === 'carol'), { what: "carol's event" });
    await disconnect(acme.client, carol);
    await waitFor(() => receiver.at('/acme').filter((d) => eventOf(d).data.identifier === 'carol').length === 2, { what: "carol's second event" });
    const carolEvents = receiver.at('/acme').filter((d) => eventOf(d).data.identifier === 'carol').map((d) => eventOf(d).data.status);
    expect(carolEvents.sort()).toEqual(['ACTIVE', 'DISCONNECTED']);

    expect(stack.logs().join('\n')).not.toContain(secret.slice(6));
  });

  it('retries a failing receiver with backoff and delivers the event once', async () => {
    const flaky = await tenant('flaky');
    const secret = (await setWebhook(flaky.client, '/flaky')).signing_secret!;
    receiver.script('/flaky', [500, 503, 200]);
    const account = await connect(flaky.client, 'dana');

    const attempts = await waitFor(() => receiver.at('/flaky').length >= 3 && receiver.at('/flaky'), { what: 'three attempts' });
    expect(attempts.map((d) => d.status)).toEqual([500, 503, 200]);
    const id = attempts[0]!.headers['webhook-id'];
    for (const d of attempts) {
      expect(d.headers['webhook-id']).toBe(id);
      expect(d.body).toBe(attempts[0]!.body);
      expect(signatureValid(secret, d)).toBe(true);
    }

    // A later event is the barrier: once it arrived, the first was not sent again.
    await disconnect(flaky.client, account);
    await waitFor(() => receiver.at('/flaky').some((d) => d.headers['webhook-id'] !== id), { what: 'the second event' });
    const first = receiver.at('/flaky').filter((d) => d.headers['webhook-id'] === id);
    expect(first).toHaveLength(3);
    expect(first.filter((d) => d.status < 300)).toHaveLength(1);
    const retries = stack.logs().filter((l) => l.includes('will retry') && l.includes(String(id)));
    expect(retries).toHaveLength(2);
  });

  it('does not retry an event the receiver answered with 410 Gone', async () => {
    const gone = await tenant('gone');
    await setWebhook(gone.client, '/gone');
    receiver.script('/gone', [410]);
    const account = await connect(gone.client, 'erin');
    await waitFor(() => receiver.at('/gone').length >= 1, { what: 'the first attempt' });
    const id = receiver.at('/gone')[0]!.headers['webhook-id'];

    await setWebhook(gone.client, '/gone-after');
    await disconnect(gone.client, account);
    await waitFor(() => receiver.at('/gone-after').length >= 1, { what: 'the barrier event' });
    expect(receiver.at('/gone')).toHaveLength(1);
    expect(receiver.at('/gone-after').map((d) => d.headers['webhook-id'])).not.toContain(id);
    expect(stack.logs().some((l) => l.includes('given up') && l.includes(String(id)) && l.includes('"gone"'))).toBe(true);
  });

  it('signs with a rotated secret at once, and shows the new secret only in that reply', async () => {
    const rot = await tenant('rot');
    const old = (await setWebhook(rot.client, '/rot')).signing_secret!;
    // An event signed with the old secret first: the executors now hold that delivery target.
    await connect(rot.client, 'erin');
    const [before] = await waitFor(() => receiver.at('/rot').length >= 1 && receiver.at('/rot'), { what: 'the event before rotation' });
    expect(signatureValid(old, before!)).toBe(true);
    const rotated = await rot.client.post<{ signing_secret: string; webhook: { url: string } }>('/api/v1/webhook/rotate_secret');
    expect(rotated.status).toBe(200);
    expect(rotated.body.webhook.url).toBe(`${receiver.url}/rot`);
    const fresh = rotated.body.signing_secret;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(old);
    expect(JSON.stringify((await rot.client.get('/api/v1/webhook')).body)).not.toContain(fresh.slice(6));

    await connect(rot.client, 'frank');
    const [, d] = await waitFor(() => receiver.at('/rot').length >= 2 && receiver.at('/rot'), { what: 'the event after rotation' });
    expect(signatureValid(fresh, d!)).toBe(true);
    expect(signatureValid(old, d!)).toBe(false);
  });

  it('delivers nothing while no webhook is set, and nothing of that time later', async () => {
    const quiet = await tenant('quiet');
    await setWebhook(quiet.client, '/quiet');
    expect((await quiet.client.delete('/api/v1/webhook')).body).toEqual({ deleted: true });
    expect((await quiet.client.get('/api/v1/webhook')).status).toBe(404);
    const account = await connect(quiet.client, 'gina');
    // Barrier: a webhook set afterwards receives the next event, not the skipped one.
    await setWebhook(quiet.client, '/quiet-after');
    await disconnect(quiet.client, account);
    await waitFor(() => receiver.at('/quiet-after').length >= 1, { what: 'the barrier event' });
    expect(receiver.at('/quiet')).toHaveLength(0);
    expect(receiver.at('/quiet-after').map((d) => eventOf(d).data.status)).toEqual(['DISCONNECTED']);
  });

  it('delivers tool-call events to a webhook that takes every type, not to one that takes account changes only', async () => {
    const all = await tenant('calls-all');
    const secret = (await setWebhook(all.client, '/calls-all')).signing_secret!;
    const statusOnly = await tenant('calls-status');
    await setWebhook(statusOnly.client, '/calls-status', ['connected_account.status_changed']);
    for (const t of [all, statusOnly]) {
      await t.client.post('/api/v1/connections', { name: 'up', connector: 'mcp', auth_type: 'bearer_token', settings: { url: 'http://127.0.0.1:9/mcp' } });
      const cfg = await t.client.post<{ config: { id: string } }>('/api/v1/mcp/configs', { name: 'cfg', connection_tool_mappings: [{ connection_name: 'up', tools: ['echo'] }] });
      // A call refused before any effect: one tool_call.denied event, no upstream needed.
      const res = await t.client.post('/api/v1/execute_tool', { tool_name: 'not-mapped', identifier: 'ivan', config_id: cfg.body.config.id, agent_run_id: 'run-x' });
      expect(res.status).toBe(404);
    }

    const [d] = await waitFor(() => receiver.at('/calls-all').length >= 1 && receiver.at('/calls-all'), { what: 'the tool call event' });
    expect(signatureValid(secret, d!)).toBe(true);
    expect(JSON.parse(d!.body)).toMatchObject({
      type: 'tool_call.denied',
      tenant_id: all.id,
      data: { tool_name: 'not-mapped', identifier: 'ivan', agent_run_id: 'run-x', status: 'DENIED', error_code: 'TOOL_NOT_FOUND', source: 'api' },
    });
    // Every record announced, every event handled by the executor: none went to the other webhook.
    const auditJsm = await jetstreamManager((await as('audit')).connection, { checkAPI: false });
    const executorJsm = await jetstreamManager((await as('executor')).connection, { checkAPI: false });
    await waitFor(async () => {
      const a = await auditJsm.consumers.info('AUDIT', 'audit-writer');
      const w = await executorJsm.consumers.info('VMCP_EVENTS', 'webhook-delivery');
      return a.num_pending + a.num_ack_pending + w.num_pending + w.num_ack_pending === 0;
    }, { what: 'audit and webhook consumers drained' });
    expect(receiver.at('/calls-status')).toHaveLength(0);
  });

  describe('input', () => {
    let t: ApiClient;
    let key: string;
    beforeAll(async () => {
      ({ client: t, key } = await tenant('input'));
    });

    it.each([
      ['an ftp URL', { url: 'ftp://example.com/hook' }],
      ['a URL with credentials', { url: 'https://user:hunter2@example.com/hook' }],
      ['a URL that is too long', { url: `https://example.com/${'a'.repeat(2048)}` }],
      ['a URL that is not one', { url: 'example.com/hook' }],
      ['no URL', {}],
      ['unknown fields', { url: 'https://example.com/hook', tenant_id: 'ten_0000000000000000000000' }],
      ['no event types', { url: 'https://example.com/hook', events: [] }],
      ['an unknown event type', { url: 'https://example.com/hook', events: ['account.deleted'] }],
      ['"*" with other types', { url: 'https://example.com/hook', events: ['*', 'connected_account.status_changed'] }],
      ['a repeated event type', { url: 'https://example.com/hook', events: ['connected_account.status_changed', 'connected_account.status_changed'] }],
    ])('refuses %s with 400 INVALID_ARGUMENT', async (_name, body) => {
      const res = await t.put('/api/v1/webhook', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { code: 'INVALID_ARGUMENT', message: expect.any(String) } });
      expect(JSON.stringify(res.body)).not.toContain('hunter2');
    });

    it('refuses a body that is not JSON, the admin key, and missing webhooks with the documented errors', async () => {
      const raw = await fetch(`${stack.baseUrl}/api/v1/webhook`, { method: 'PUT', headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' }, body: 'url=x' });
      expect(raw.status).toBe(415);
      expect((await admin.put('/api/v1/webhook', { url: 'https://example.com/hook' })).status).toBe(403);
      for (const res of [await t.get('/api/v1/webhook'), await t.delete('/api/v1/webhook'), await t.post('/api/v1/webhook/rotate_secret')]) {
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
      }
    });

    it('lists the webhook routes in the OpenAPI document', async () => {
      const doc = (await (await fetch(`${stack.baseUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
      expect(Object.keys(doc.paths['/api/v1/webhook'] ?? {}).sort()).toEqual(['delete', 'get', 'put']);
      expect(doc.paths['/api/v1/webhook/rotate_secret']?.post).toBeDefined();
    });
  });

  it('gives the webhook secret to the executor only', async () => {
    const own = await tenant('bus');
    await setWebhook(own.client, '/bus');
    const asExecutor = await (await as('executor')).request(webhooks.deliveryTarget, { tenant_id: own.id });
    expect(asExecutor.target).toMatchObject({ url: `${receiver.url}/bus`, signing_secret: expect.stringMatching(/^whsec_/) });
    const refused = await (await as('edge')).request(webhooks.deliveryTarget, { tenant_id: own.id }).catch((e: { code?: string }) => e);
    expect(refused).toMatchObject({ code: expect.stringMatching(/UNAVAILABLE|DEADLINE_EXCEEDED/) });
  });

  it('keeps delivering after the events stream was lost and re-created', async () => {
    const jsm = await jetstreamManager((await as('policy')).connection);
    await jsm.streams.delete(stack.env.VMCP_EVENTS_STREAM!);
    const phoenix = await tenant('phoenix');
    await setWebhook(phoenix.client, '/phoenix');
    const account = await connect(phoenix.client, 'hal');
    await waitFor(() => receiver.at('/phoenix').length >= 1, { what: 'the event after the stream came back', timeoutMs: 15_000 });
    expect(eventOf(receiver.at('/phoenix')[0]!).data.connected_account_id).toBe(account);
  });

  it('shares the delivery work between executor replicas, each event once', async () => {
    // A second executor process, configured like the stack's.
    const u = creds.users.executor!;
    const replica = spawn(process.execPath, [fileURLToPath(new URL('../../executor/dist/main.js', import.meta.url))], {
      env: { PATH: process.env.PATH ?? '', ...stack.env, NATS_USER: u.user, NATS_PASSWORD: u.password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    for (const stream of [replica.stdout!, replica.stderr!]) createInterface({ input: stream }).on('line', (l) => lines.push(l));
    try {
      // As patient as startStack: a loaded machine starts a process slowly.
      await waitFor(
        () => lines.some((l) => l.includes('"vmcp-executor ready"')) || (replica.exitCode !== null ? Promise.reject(new Error(lines.slice(-20).join('\n'))) : false),
        { what: 'the second executor', timeoutMs: 30_000 },
      );
      const multi = await tenant('multi');
      await setWebhook(multi.client, '/multi');
      for (const who of ['m1', 'm2', 'm3', 'm4']) await connect(multi.client, who);
      await waitFor(() => receiver.at('/multi').length >= 4, { what: 'four events' });

      // With the stack's executor gone (for the rest of this file), the replica alone carries on with the same consumer.
      await stack.stop('executor');
      for (const who of ['m5', 'm6']) await connect(multi.client, who);
      await waitFor(() => receiver.at('/multi').length >= 6, { what: 'six events' });
      expect(lines.some((l) => l.includes('webhook delivered'))).toBe(true);
      const ids = receiver.at('/multi').map((d) => d.headers['webhook-id']);
      expect(ids).toHaveLength(6);
      expect(new Set(ids).size).toBe(6);
    } finally {
      if (replica.exitCode === null) {
        const exited = new Promise((r) => replica.once('exit', r));
        replica.kill('SIGTERM');
        await exited;
      }
    }
  });

  it('leaves every service running', () => {
    expect(stack.exited()).toEqual([]);
  });
});
