import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { jetstreamManager } from '@nats-io/jetstream';
import { Bus } from '@vmcp/messaging';
import {
  api,
  startNatsProxy,
  startNatsServer,
  startStack,
  startUpstreamMcpServer,
  waitFor,
  type ApiClient,
  type NatsProxy,
  type NatsServerHandle,
  type Stack,
  type UpstreamMcpServer,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callError, connectAgent, textOf } from './mcp-client.js';

// Issue 4: "nothing lost, nothing doubled" and "audit before effect", under faults. Agents
// keep calling while the audit service is SIGKILLed and restarted and while the NATS server
// restarts on the same port and JetStream store. Each call's argument is unique, so the
// upstream's own record of what reached it is the ground truth of effects.
//
// Correlation: an agent never sees execution ids and arguments are not stored, so each user
// calls one at a time and never starts two calls in the same millisecond: an entry's
// started_at (stamped by the edge after the request arrived and before it answered) lies
// in exactly one of that user's [sent, answered] intervals.

const USERS = ['ann', 'ben', 'cat'] as const;
const CALLS_BEFORE_AUDIT_KILL = 60;
const CALLS_BEFORE_NATS_RESTART = 60;
const OK_CALLS_AFTER_NATS_RESTART = 60;

interface CallRecord {
  readonly user: string;
  readonly text: string;
  readonly sentAt: number;
  answeredAt: number;
  ok: boolean;
  error?: { rpc?: number; code?: string; message: string };
}

interface Entry {
  readonly execution_id: string;
  readonly identifier: string;
  readonly tool_name: string;
  readonly status: 'STARTED' | 'SUCCESS' | 'ERROR' | 'DENIED';
  readonly error_code: string | null;
  readonly error_message: string | null;
  readonly started_at: string;
  readonly finished_at: string | null;
}

/** Which hop refused a call, from the error message the edge gives for each (tool-call.service.ts, bus.ts). */
function refusedAt(error: string): 'policy' | 'audit' | 'executor' | 'other' {
  // The SDK puts "MCP error <code>: " in front of the edge's message (the edge's McpError already carries one).
  const message = error.replace(/^(MCP error -?\d+: )+/, '');
  if (/^audit log unavailable/.test(message)) return 'audit';
  if (/^policy /.test(message)) return 'policy';
  if (/^executor /.test(message)) return 'executor';
  return 'other';
}

async function entriesOf(tenant: ApiClient, identifier: string): Promise<Entry[]> {
  const all: Entry[] = [];
  let token: string | undefined;
  do {
    const r = await tenant.get<{ tool_call_logs: Entry[]; next_page_token?: string }>(
      `/api/v1/tool_call_logs?identifier=${identifier}&page_size=200${token ? `&page_token=${encodeURIComponent(token)}` : ''}`,
    );
    if (r.status !== 200) throw new Error(`tool_call_logs answered ${r.status}: ${JSON.stringify(r.body)}`);
    all.push(...r.body.tool_call_logs);
    token = r.body.next_page_token;
  } while (token);
  return all;
}

/** Agents calling echo in a loop, each with its own unique text per call, until stopped. */
function drive(clients: ReadonlyMap<string, Client>, log: CallRecord[]) {
  let running = true;
  const loops = [...clients].map(async ([user, client]) => {
    let lastAnswer = 0;
    for (let i = 0; running; i++) {
      // Never two calls of one user in the same millisecond (see the correlation note above).
      await waitFor(() => Date.now() > lastAnswer, { intervalMs: 1 });
      const call: CallRecord = { user, text: `${user}#${i}`, sentAt: Date.now(), answeredAt: 0, ok: false };
      log.push(call);
      try {
        // Bounded by the gateway's own deadlines (bus 3 s, tool 5 s + 2 s); 15 s means it hung.
        const result = await client.callTool({ name: 'echo', arguments: { text: call.text } }, undefined, { timeout: 15_000 });
        call.ok = !result.isError && textOf(result) === call.text;
        if (!call.ok) call.error = { message: `unexpected result ${JSON.stringify(result).slice(0, 200)}` };
      } catch (err) {
        const e = err as { code?: number; message: string; data?: { code?: string } };
        call.error = { rpc: e.code, code: e.data?.code, message: e.message };
        // An HTTP 503 (the session store unreachable: nothing was done, retry) carries its JSON-RPC error in the body.
        const answered = e.code === 503 ? /Error POSTing to endpoint: (\{.*\})$/s.exec(e.message)?.[1] : undefined;
        if (answered) {
          const body = JSON.parse(answered) as { error?: { code?: number; message?: string; data?: { code?: string } } };
          call.error = { rpc: body.error?.code, code: body.error?.data?.code, message: body.error?.message ?? e.message };
        }
      }
      call.answeredAt = lastAnswer = Date.now();
    }
  });
  return {
    done: () => log.filter((c) => c.answeredAt > 0).length,
    ok: () => log.filter((c) => c.ok).length,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('audit trail under faults', () => {
  let nats: NatsServerHandle;
  let proxy: NatsProxy;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let tenant: ApiClient;
  let configId: string;
  let mcpUrl: string;
  const clients = new Map<string, Client>();

  const agent = async (identifier: string) => {
    const r = await tenant.post(`/api/v1/mcp/configs/${configId}/tokens`, { identifier, expiry_seconds: 3600 });
    expect(r.status).toBe(201);
    return connectAgent(mcpUrl, (r.body as { token: string }).token);
  };
  /** What the upstream received, by the unique text of each call. */
  const effects = () => {
    const seen = new Map<string, number>();
    for (const c of upstream.calls) {
      const text = String(c.arguments.text);
      seen.set(text, (seen.get(text) ?? 0) + 1);
    }
    return seen;
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    proxy = await startNatsProxy(nats.url);
    upstream = await startUpstreamMcpServer();
    stack = await startStack({
      natsUrl: nats.url,
      database: 'postgres',
      // A call whose executor reply is lost in the NATS restart fails after 7 s, not 62 s;
      // an unacknowledged audit record after 3 s (the bound `drive` counts on).
      env: { VMCP_TOOL_TIMEOUT_MS: '5000', VMCP_BUS_TIMEOUT_MS: '3000' },
      // The edge reaches NATS through a proxy that can hold back its audit records.
      serviceEnv: { edge: { NATS_URL: proxy.url } },
    });
    const admin = api(stack.baseUrl, stack.adminKey);
    const t = await admin.post('/api/v1/tenants', { name: 'faulty' });
    expect(t.status).toBe(201);
    tenant = api(stack.baseUrl, (t.body as { api_key: string }).api_key);
    expect((await tenant.post('/api/v1/connections', { name: 'upstream', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } })).status).toBe(201);
    for (const user of [...USERS, 'dora', 'erin']) {
      const r = await tenant.post('/api/v1/connected_accounts', {
        connection_name: 'upstream',
        identifier: user,
        authorization_details: { static_auth: { token: `${user}-upstream-secret` } },
      });
      expect(r.status).toBe(201);
    }
    const c = await tenant.post('/api/v1/mcp/configs', { name: 'faults', connection_tool_mappings: [{ connection_name: 'upstream', tools: ['echo'] }] });
    expect(c.status).toBe(201);
    ({ id: configId, mcp_server_url: mcpUrl } = (c.body as { config: { id: string; mcp_server_url: string } }).config);
    for (const user of USERS) clients.set(user, await agent(user));
  });

  afterAll(async () => {
    await Promise.allSettled([...clients.values()].map((c) => c.close()));
    await stack?.close();
    await upstream?.close();
    await proxy?.close();
    await nats?.stop();
  });

  it('loses and doubles nothing, and runs nothing unaudited, across an audit SIGKILL and a NATS restart', async () => {
    const log: CallRecord[] = [];
    const load = drive(clients, log);
    try {
      await waitFor(() => load.done() >= CALLS_BEFORE_AUDIT_KILL, { timeoutMs: 15_000, what: 'calls before the audit kill' });
      await stack.kill('audit');
      await stack.start('audit');
      const afterAudit = load.done();
      await waitFor(() => load.done() >= afterAudit + CALLS_BEFORE_NATS_RESTART, { timeoutMs: 15_000, what: 'calls before the NATS restart' });
      await nats.restart();
      const okBefore = load.ok();
      await waitFor(() => load.ok() >= okBefore + OK_CALLS_AFTER_NATS_RESTART, { timeoutMs: 30_000, what: 'successful calls after the NATS restart' });
    } finally {
      await load.stop();
    }
    expect(stack.exited()).toEqual([]);

    // Settled: every call the agent saw succeed, and every refusal the edge records
    // (policy or executor hop), has its complete entry, and nothing is left STARTED. Events
    // the killed writer had been delivered come back after the consumer's ack_wait (30 s).
    const mustHaveEntry = log.filter((c) => c.ok || (c.error && ['policy', 'executor'].includes(refusedAt(c.error.message))));
    let entries: Entry[] = [];
    const settled = await waitFor(
      async () => {
        entries = (await Promise.all(USERS.map((u) => entriesOf(tenant, u)))).flat();
        return entries.length >= mustHaveEntry.length && entries.every((e) => e.status !== 'STARTED');
      },
      { timeoutMs: 45_000, intervalMs: 500, what: 'the audit trail to settle' },
    ).catch(() => false);

    // Each entry belongs to exactly one call.
    const byCall = new Map<CallRecord, Entry[]>();
    const strays: Entry[] = [];
    for (const e of entries) {
      const at = Date.parse(e.started_at);
      const owners = log.filter((c) => c.user === e.identifier && c.sentAt <= at && at <= c.answeredAt);
      if (owners.length !== 1) strays.push(e);
      else byCall.set(owners[0]!, [...(byCall.get(owners[0]!) ?? []), e]);
    }
    const received = effects();
    const problems: string[] = [];
    const say = (c: CallRecord, what: string) =>
      problems.push(`${c.text} (${c.ok ? 'ok' : `refused: ${c.error?.code} ${c.error?.message}`}): ${what}; entries ${JSON.stringify(byCall.get(c) ?? [])}`);
    for (const c of log) {
      const mine = byCall.get(c) ?? [];
      const effect = received.get(c.text) ?? 0;
      if (mine.length > 1) say(c, `${mine.length} entries`);
      if (effect > 1) say(c, `reached the upstream ${effect} times`);
      const entry = mine[0];
      if (entry?.status === 'STARTED') say(c, 'entry never completed');
      if (effect > 0 && (!entry || !['SUCCESS', 'ERROR'].includes(entry.status))) say(c, 'effect without a SUCCESS/ERROR entry');
      if (c.ok) {
        if (entry?.status !== 'SUCCESS') say(c, 'succeeded without a SUCCESS entry');
        if (effect !== 1) say(c, 'succeeded without reaching the upstream');
        continue;
      }
      // A refusal is a JSON-RPC error with a stable vmcp code and a message saying what is down.
      if (c.error?.rpc !== -32603 || !['UNAVAILABLE', 'DEADLINE_EXCEEDED'].includes(c.error.code ?? '')) say(c, 'not a clear JSON-RPC error');
      if (entry && !['DENIED', 'ERROR'].includes(entry.status)) say(c, `refused but recorded as ${entry.status}`);
      const hop = refusedAt(c.error?.message ?? '');
      if (hop === 'policy' && entry?.status !== 'DENIED') say(c, 'refused by the policy hop without a DENIED entry');
      if (hop === 'executor' && entry?.status !== 'ERROR') say(c, 'failed at the executor hop without an ERROR entry');
      // The "started" record was not accepted: no effect, and (if it really was not stored) no entry.
      if (hop === 'audit' && effect) say(c, 'refused for audit but reached the upstream');
    }
    for (const text of received.keys()) if (!log.some((c) => c.text === text)) problems.push(`${text}: reached the upstream but was never sent`);

    const ok = log.filter((c) => c.ok).length;
    const refused = log.length - ok;
    const summary = `${log.length} calls, ${ok} ok, ${refused} refused (${[...new Set(log.filter((c) => !c.ok).map((c) => `${c.error?.code}: ${c.error?.message}`))].join(' | ')}), ${entries.length} entries, ${received.size} effects`;
    // The message carries the first problems, so a failure in CI says what went wrong.
    const detail = `${summary}; problems: ${problems.slice(0, 5).join(' || ') || 'none'}; strays: ${JSON.stringify(strays.slice(0, 3))}`;
    expect({ settled, strays, problems: problems.slice(0, 20), problemCount: problems.length }, detail).toEqual({ settled: true, strays: [], problems: [], problemCount: 0 });
    // No execution id twice, and entries = successes + refusals that were recorded.
    expect(new Set(entries.map((e) => e.execution_id)).size).toBe(entries.length);
    expect(entries.filter((e) => e.status === 'SUCCESS').length).toBe(ok);
    expect(entries.length).toBe(ok + log.filter((c) => !c.ok && byCall.has(c)).length);
    expect(ok).toBeGreaterThanOrEqual(CALLS_BEFORE_AUDIT_KILL + CALLS_BEFORE_NATS_RESTART);
  }, 120_000);

  // An acknowledgement that times out does not mean the record was not stored: the edge
  // refuses the call, and JetStream may store its "started" record a moment later.
  let lateFrom = 0;
  let lateTo = 0;

  it('refuses a call whose "started" record JetStream does not acknowledge in time, before the upstream', async () => {
    const client = await agent('erin');
    clients.set('erin', client);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'erin-before' } }))).toBe('erin-before');
    // Its "finished" record follows the reply: let it through before holding anything back.
    await waitFor(async () => (await entriesOf(tenant, 'erin')).some((e) => e.status === 'SUCCESS'), { what: "erin's first entry" });

    proxy.hold(/^vmcp\.audit\.v1\.events\./);
    lateFrom = Date.now();
    const refused = await callError(client, 'echo', { text: 'erin-unacknowledged' });
    lateTo = Date.now();
    expect(refused).toMatchObject({ rpc: -32603, code: 'UNAVAILABLE', message: expect.stringMatching(/audit log unavailable/) });
    expect(upstream.calls.some((c) => c.arguments.text === 'erin-unacknowledged')).toBe(false);
    // JetStream gets (and stores) the records only now, after the edge gave up: the
    // "started" one, and the refusal the edge recorded for it (which may leave the edge just
    // after its answer to the agent: the bus writes a turn's messages together).
    await waitFor(() => proxy.held() >= 2, { what: 'the refusal record, held back too' });
    expect(proxy.release()).toBe(2);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'erin-after' } }))).toBe('erin-after');
  });

  // The edge records a refusal for a call whose "started" publish failed, so a record that
  // JetStream stores after the timeout never leaves the entry STARTED.
  it('completes the entry of that refused call: it is not left STARTED', async () => {
    const mine = async () => (await entriesOf(tenant, 'erin')).filter((e) => Date.parse(e.started_at) >= lateFrom && Date.parse(e.started_at) <= lateTo);
    // The late "started" record was stored: the entry exists...
    await waitFor(async () => (await mine()).length === 1, { timeoutMs: 10_000, what: 'the late record to be stored' });
    // ...and a refused call must end DENIED, never STARTED.
    const [entry] = await waitFor(async () => ((await mine()).every((e) => e.status !== 'STARTED') ? mine() : false), {
      timeoutMs: 3000,
      what: 'the refused call to be recorded as refused',
    });
    expect(entry).toMatchObject({ status: 'DENIED', error_code: 'UNAVAILABLE' });
  }, 20_000);

  let gapTo = 0;

  it('refuses calls while the AUDIT stream is gone, and the upstream never sees them', async () => {
    const stream = stack.env.VMCP_AUDIT_STREAM!;
    const client = await agent('dora');
    clients.set('dora', client);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'dora-before' } }))).toBe('dora-before');

    const bus = await Bus.connect({ url: nats.url, name: 'audit-faults-test', timeoutMs: 3000 });
    try {
      const jsm = await jetstreamManager(bus.connection);
      // vmcp makes the stream again within about half a second (below); on a loaded machine a
      // call can reach the edge after that, and then goes through. Such a try proves nothing:
      // delete the stream again and call once more.
      let refused: Awaited<ReturnType<typeof callError>> = 'ok';
      let text = '';
      let wentThrough = 0;
      const loopFrom = Date.now();
      for (let attempt = 1; refused === 'ok'; attempt++) {
        if (attempt > 5) throw new Error('the AUDIT stream never stayed gone until a call reached the edge');
        text = `dora-while-gone-${attempt}`;
        await jsm.streams.delete(stream);
        refused = await callError(client, 'echo', { text });
        if (refused === 'ok') wentThrough++;
      }
      expect(refused).toMatchObject({ rpc: -32603, code: 'UNAVAILABLE', message: expect.stringMatching(/audit log unavailable/) });
      expect(upstream.calls.some((c) => c.arguments.text === text)).toBe(false);
      // A call that went through did so on the stream made again, audited: each is a SUCCESS
      // entry (none ran unrecorded while the stream was gone).
      const throughSince = async () => (await entriesOf(tenant, 'dora')).filter((e) => e.status === 'SUCCESS' && Date.parse(e.started_at) >= loopFrom).length;
      await waitFor(async () => (await throughSince()) === wentThrough, {
        timeoutMs: 15_000,
        intervalMs: 250,
        what: 'an audit entry for every call that went through',
      });
    } finally {
      await bus.close();
    }
    // Nobody puts the stream back by hand: vmcp makes it again (the edge after a refused
    // publish, the audit writer when its consumer vanished), and calls go through again.
    gapTo = Date.now();
    const after = await waitFor(async () => {
      const r = await client.callTool({ name: 'echo', arguments: { text: 'dora-after' } }).catch(() => undefined);
      return r && textOf(r) === 'dora-after' ? r : undefined;
    }, { timeoutMs: 15_000, intervalMs: 500, what: 'calls to work again once the stream is made again' });
    expect(textOf(after)).toBe('dora-after');
  });

  // The audit writer makes its stream and durable consumer again when they vanish.
  it('audits calls again once the AUDIT stream is back', async () => {
    await waitFor(async () => (await entriesOf(tenant, 'dora')).some((e) => e.status === 'SUCCESS' && Date.parse(e.started_at) > gapTo), {
      timeoutMs: 15_000,
      intervalMs: 250,
      what: "the entry of dora's call after the stream came back",
    });
  }, 15_000);
});
