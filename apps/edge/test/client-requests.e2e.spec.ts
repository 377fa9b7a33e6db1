import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, McpError, type ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import {
  api,
  NATS_PERMISSIONS_FILE,
  natsUsers,
  parsePrometheusText,
  startNatsServer,
  startStack,
  startUpstreamMcpServer,
  type EdgeReplica,
  type NatsServerHandle,
  type Stack,
  type UpstreamMcpServer,
  waitFor,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textOf } from './mcp-client.js';

// An upstream's requests to the agent during a call (sampling/createMessage,
// elicitation/create) reach a 2025-era agent on that call's own stream, and its answer goes
// back upstream. The answer is a POST of its own: here it always reaches the other edge
// replica than the call, as behind a load balancer. The upstream session declares exactly
// what the agent declared and its config allows (`client_requests`); an agent that declared
// nothing is never asked; a question carrying the account's credential is withheld; another
// session's answer is not taken.
// The bus runs with the production permission file.

const ALICE_SECRET = 'alice-ask-secret-5c1f0e93';
const BOB_SECRET = 'bob-ask-secret-2a7d66b4';
/** vitest's own poll gives up after 1 s: a question's round trip through five services on a loaded CI machine can take longer. */
const POLL = { timeout: 10_000, interval: 25 };
// Characters URL encoding changes, so an upstream quoting it URL-encoded hides it from a plain search.
const CAROL_SECRET = 'carol+ask/secret=7e0b';

interface Asked {
  readonly method: string;
  readonly params: Record<string, unknown>;
}

interface Agent {
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
  readonly asked: Asked[];
  /** Answers (POSTs with no method) this agent sent, all to the second replica. */
  readonly answers: number;
}

/** What the upstream's `ask` tool answered: the client's first answer, how many it answered, the error that stopped it, and the capabilities its session was initialized with. */
interface AskOutcome {
  answer?: Record<string, unknown>;
  answered: number;
  error?: { code: number; message: string };
  capabilities: ClientCapabilities;
}

describe('sampling and elicitation relayed to 2025-era agents', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let replica: EdgeReplica;
  let configId: string;
  let mcpUrl: string;
  let tenant: ReturnType<typeof api>;
  const agents: Agent[] = [];

  const mint = async (identifier: string, config = configId) =>
    (await tenant.post<{ token: string }>(`/api/v1/mcp/configs/${config}/tokens`, { identifier })).body.token;

  /**
   * An SDK agent: its tool calls go to the first edge, every other POST (its answers above
   * all) to the second. `answer` is its handler for both kinds of request.
   */
  const connect = async (
    token: string,
    capabilities: ClientCapabilities,
    answer?: (asked: Asked, requestId: string | number) => Promise<Record<string, unknown>>,
    url = mcpUrl,
  ): Promise<Agent> => {
    const asked: Asked[] = [];
    const sent = { answers: 0 };
    const route: typeof fetch = (input, init) => {
      const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as { method?: string }) : undefined;
      const toReplica = body !== undefined && body.method !== 'tools/call';
      if (body !== undefined && body.method === undefined) sent.answers++;
      return fetch(toReplica ? String(input).replace(stack.publicUrl, replica.url) : input, init);
    };
    const client = new Client({ name: 'vmcp-ask-agent', version: '1.0.0' }, { capabilities });
    const handle = (method: string) => async (request: { params: Record<string, unknown> }, extra: { requestId: string | number }) => {
      asked.push({ method, params: request.params });
      if (!answer) throw new Error('not expected');
      return answer({ method, params: request.params }, extra.requestId);
    };
    if (capabilities.sampling) client.setRequestHandler(CreateMessageRequestSchema, handle('sampling/createMessage') as never);
    if (capabilities.elicitation) client.setRequestHandler(ElicitRequestSchema, handle('elicitation/create') as never);
    const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } }, fetch: route });
    await client.connect(transport);
    const agent: Agent = {
      client,
      transport,
      asked,
      get answers() {
        return sent.answers;
      },
    };
    agents.push(agent);
    return agent;
  };

  const ask = async (agent: Agent, args: { kind: 'sampling' | 'elicitation' | 'elicitation_url'; prompt: string; leak?: 'plain' | 'url'; times?: number }) => {
    const result = await agent.client.callTool({ name: 'ask', arguments: args });
    return { isError: result.isError === true, outcome: JSON.parse(textOf(result)) as AskOutcome };
  };

  /** A raw POST of `body` on a 2025-11-25 session (or none), to one edge: what an SDK client would never send. */
  const postRaw = (base: string, token: string, sessionId: string | undefined, body: unknown) =>
    fetch(mcpUrl.replace(stack.publicUrl, base), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
        ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
      },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    const creds = natsUsers();
    nats = await startNatsServer({ configFile: NATS_PERMISSIONS_FILE, env: creds.serverEnv });
    upstream = await startUpstreamMcpServer();
    // Bodies past NATS's 1 MiB are taken, so an answer too big to relay can be sent.
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite', natsUsers: creds.users, serviceEnv: { edge: { VMCP_MAX_BODY_BYTES: String(4 * 1024 * 1024) } } });
    replica = await stack.startEdgeReplica();
    const admin = api(stack.baseUrl, stack.adminKey);
    tenant = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name: 'client-requests' })).body as { api_key: string }).api_key);
    expect((await tenant.post('/api/v1/connections', { name: 'upstream', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } })).status).toBe(201);
    for (const [identifier, secret] of [['alice', ALICE_SECRET], ['bob', BOB_SECRET], ['carol', CAROL_SECRET]] as const) {
      const r = await tenant.post('/api/v1/connected_accounts', { connection_name: 'upstream', identifier, authorization_details: { static_auth: { token: secret } } });
      expect(r.status).toBe(201);
    }
    const config = await tenant.post<{ config: { id: string; mcp_server_url: string } }>('/api/v1/mcp/configs', {
      name: 'asking',
      connection_tool_mappings: [{ connection_name: 'upstream', tools: ['ask', 'echo'] }],
    });
    expect(config.status).toBe(201);
    ({ id: configId, mcp_server_url: mcpUrl } = config.body.config);
  });

  afterAll(async () => {
    await Promise.allSettled(agents.map((a) => a.client.close()));
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it("puts the upstream's sampling request to the agent on the call's stream and takes its answer on the other replica", async () => {
    const agent = await connect(await mint('alice'), { sampling: {} }, async ({ params }) => {
      const messages = params['messages'] as Array<{ content: { text: string } }>;
      return { role: 'assistant', model: 'agent-model', content: { type: 'text', text: `model says: ${messages[0]?.content.text}` } };
    });
    const { isError, outcome } = await ask(agent, { kind: 'sampling', prompt: 'what is 6 x 7?' });
    expect(isError).toBe(false);
    expect(outcome.answer).toMatchObject({ role: 'assistant', model: 'agent-model', content: { type: 'text', text: 'model says: what is 6 x 7?' } });
    // The upstream session declares what the agent declared, and nothing else.
    expect(outcome.capabilities).toEqual({ sampling: {} });
    expect(agent.asked).toEqual([{ method: 'sampling/createMessage', params: expect.objectContaining({ maxTokens: 50 }) }]);
    expect(agent.answers).toBe(1);
  });

  it('relays elicitation in form and url mode, accepted or declined', async () => {
    const replies: Record<string, Record<string, unknown>> = {
      accept: { action: 'accept', content: { answer: 'blue' } },
      decline: { action: 'decline' },
      url: { action: 'accept' },
    };
    const agent = await connect(await mint('alice'), { elicitation: { form: {}, url: {} } }, async ({ params }) => replies[String(params['message'])]!);
    const accepted = await ask(agent, { kind: 'elicitation', prompt: 'accept' });
    expect(accepted.outcome.answer).toEqual({ action: 'accept', content: { answer: 'blue' } });
    expect(accepted.outcome.capabilities).toEqual({ elicitation: { form: {}, url: {} } });
    expect((await ask(agent, { kind: 'elicitation', prompt: 'decline' })).outcome.answer).toEqual({ action: 'decline' });
    expect((await ask(agent, { kind: 'elicitation_url', prompt: 'url' })).outcome.answer).toEqual({ action: 'accept' });
    expect(agent.asked.map((a) => [a.params['mode'], a.params['message']])).toEqual([
      ['form', 'accept'],
      ['form', 'decline'],
      ['url', 'url'],
    ]);
    expect(agent.asked[2]?.params['url']).toBe('https://example.com/consent');
  });

  it("passes the agent's refusal back upstream with its code and message", async () => {
    const agent = await connect(await mint('alice'), { sampling: {} }, async () => {
      throw new McpError(-1, 'the user rejected the sampling request');
    });
    const { isError, outcome } = await ask(agent, { kind: 'sampling', prompt: 'anything' });
    expect(isError).toBe(true);
    expect(outcome.error?.code).toBe(-1);
    expect(outcome.error?.message).toContain('the user rejected the sampling request');
  });

  it('never asks an agent what it did not declare', async () => {
    const silent = await connect(await mint('alice'), {});
    const sampled = await ask(silent, { kind: 'sampling', prompt: 'nobody to ask' });
    expect(sampled.isError).toBe(true);
    // The upstream session declared nothing, and its request was refused as an unknown method.
    expect(sampled.outcome.capabilities).toEqual({});
    expect(sampled.outcome.error?.code).toBe(-32601);
    const formOnly = await connect(await mint('alice'), { elicitation: { form: {} } }, async () => ({ action: 'accept' }));
    const url = await ask(formOnly, { kind: 'elicitation_url', prompt: 'open this' });
    expect(url.isError).toBe(true);
    expect(url.outcome.error?.code).toBe(-32602);
    expect(formOnly.asked).toEqual([]);
    // The calls themselves still work.
    expect(textOf(await silent.client.callTool({ name: 'echo', arguments: { text: 'still here' } }))).toBe('still here');
  });

  it('asks nothing the config turns off (client_requests), whatever the agent declared, on every replica', async () => {
    const mappings = [{ connection_name: 'upstream', tools: ['ask'] }];
    const created = await tenant.post<{ config: { id: string; mcp_server_url: string } }>('/api/v1/mcp/configs', {
      name: 'no-sampling',
      connection_tool_mappings: mappings,
      client_requests: { sampling: false },
    });
    expect(created.status).toBe(201);
    const { id, mcp_server_url: url } = created.body.config;
    const reply = async ({ method }: Asked) => (method === 'elicitation/create' ? { action: 'accept', content: { answer: 'ok' } } : { role: 'assistant', model: 'm', content: { type: 'text', text: 'sampled' } });
    const both = { sampling: {}, elicitation: { form: {} } };
    // One agent's calls go to the first edge, the other's to the second.
    const first = await connect(await mint('alice', id), both, reply, url);
    const second = await connect(await mint('alice', id), both, reply, url.replace(stack.publicUrl, replica.url));
    for (const agent of [first, second]) {
      const sampled = await ask(agent, { kind: 'sampling', prompt: 'not allowed here' });
      // The upstream session was offered elicitation only: its SDK refused sampling before sending it.
      expect(sampled.isError).toBe(true);
      expect(sampled.outcome.capabilities).toEqual({ elicitation: { form: {} } });
      expect(sampled.outcome.error?.code).toBe(-32601);
      expect((await ask(agent, { kind: 'elicitation', prompt: 'allowed' })).outcome.answer).toEqual({ action: 'accept', content: { answer: 'ok' } });
      expect(agent.asked.map((a) => a.method)).toEqual(['elicitation/create']);
    }

    // Turned the other way round: both replicas' cached decisions follow the change.
    const turned = await tenant.put(`/api/v1/mcp/configs/${id}`, { name: 'no-sampling', connection_tool_mappings: mappings, client_requests: { sampling: true, elicitation: false } });
    expect(turned.status).toBe(200);
    for (const agent of [first, second]) {
      const sampledNow = await waitFor(
        async () => {
          const attempt = await ask(agent, { kind: 'sampling', prompt: 'allowed now' });
          return attempt.isError ? undefined : attempt;
        },
        { what: 'the config change to reach the edge' },
      );
      expect(sampledNow.outcome.capabilities).toEqual({ sampling: {} });
      const elicited = await ask(agent, { kind: 'elicitation', prompt: 'not any more' });
      expect(elicited.isError).toBe(true);
      expect(elicited.outcome.error?.code).toBe(-32601);
      expect(agent.asked.map((a) => a.method)).toEqual(['elicitation/create', 'sampling/createMessage']);
    }

    // Both off: nothing is offered upstream, and the call itself still works.
    expect((await tenant.put(`/api/v1/mcp/configs/${id}`, { name: 'no-sampling', connection_tool_mappings: mappings, client_requests: { sampling: false } })).status).toBe(200);
    const silenced = await waitFor(
      async () => {
        const attempt = await ask(first, { kind: 'elicitation', prompt: 'nothing now' });
        return attempt.outcome.capabilities && Object.keys(attempt.outcome.capabilities).length === 0 ? attempt : undefined;
      },
      { what: 'the second change to reach the edge' },
    );
    expect(silenced.outcome.error?.code).toBe(-32601);
    expect(first.asked).toHaveLength(2);
  });

  it("withholds a question that carries the account's credential, as is or URL-encoded", async () => {
    for (const [user, leak] of [['alice', 'plain'], ['carol', 'url']] as const) {
      const agent = await connect(await mint(user), { sampling: {} }, async () => ({ role: 'assistant', model: 'm', content: { type: 'text', text: 'leaked?' } }));
      const { isError, outcome } = await ask(agent, { kind: 'sampling', prompt: 'the token is', leak });
      expect(isError, user).toBe(true);
      expect(outcome.error).toMatchObject({ code: -32602, message: expect.stringContaining('withheld') });
      expect(agent.asked, user).toEqual([]);
    }
  });

  it('declares upstream only the parts of the capabilities MCP defines, so agents that say the same share one upstream session', async () => {
    const reply = async () => ({ action: 'decline' });
    const first = await connect(await mint('bob'), { elicitation: {}, sampling: { context: {} }, ...({ experimental: { x: {} } } as ClientCapabilities) }, reply);
    const { outcome } = await ask(first, { kind: 'elicitation', prompt: 'canonical' });
    // 2025-06-18 clients declare elicitation with no mode: that is form mode.
    expect(outcome.capabilities).toEqual({ sampling: { context: {} }, elicitation: { form: {} } });
    const sessions = upstream.initializeCount();
    // Noise MCP does not define changes nothing upstream: the same pooled session answers.
    const second = await connect(await mint('bob'), { elicitation: { form: { junk: 1 } }, sampling: { context: { also: 'junk' } } } as ClientCapabilities, reply);
    expect((await ask(second, { kind: 'elicitation', prompt: 'same session' })).outcome.capabilities).toEqual({ sampling: { context: {} }, elicitation: { form: {} } });
    expect(upstream.initializeCount()).toBe(sessions);
  });

  it('gives each of two concurrent calls on one pooled upstream session only its own questions', async () => {
    const held: Array<() => void> = [];
    const hold = (name: string) => async ({ params }: Asked) => {
      // Both questions are out before either is answered.
      await new Promise<void>((r) => held.push(r));
      const messages = params['messages'] as Array<{ content: { text: string } }>;
      return { role: 'assistant', model: name, content: { type: 'text', text: `${name} heard ${messages[0]?.content.text}` } };
    };
    const a = await connect(await mint('alice'), { sampling: {} }, hold('a'));
    const b = await connect(await mint('alice'), { sampling: {} }, hold('b'));
    const both = Promise.all([ask(a, { kind: 'sampling', prompt: 'for a' }), ask(b, { kind: 'sampling', prompt: 'for b' })]);
    await expect.poll(() => held.length, POLL).toBe(2);
    for (const release of held) release();
    const [fromA, fromB] = await both;
    expect(fromA.outcome.answer).toMatchObject({ model: 'a', content: { text: 'a heard for a' } });
    expect(fromB.outcome.answer).toMatchObject({ model: 'b', content: { text: 'b heard for b' } });
    expect(a.asked.map((q) => (q.params['messages'] as Array<{ content: { text: string } }>)[0]?.content.text)).toEqual(['for a']);
    expect(b.asked.map((q) => (q.params['messages'] as Array<{ content: { text: string } }>)[0]?.content.text)).toEqual(['for b']);
  });

  it('relays at most 16 questions per call, then refuses the upstream', async () => {
    const agent = await connect(await mint('alice'), { sampling: {} }, async () => ({ role: 'assistant', model: 'm', content: { type: 'text', text: 'again' } }));
    const { isError, outcome } = await ask(agent, { kind: 'sampling', prompt: 'many', times: 20 });
    expect(isError).toBe(true);
    expect(outcome.answered).toBe(16);
    expect(outcome.error?.message).toContain('at most 16');
    expect(agent.asked).toHaveLength(16);
    // The next call has its own allowance.
    expect((await ask(agent, { kind: 'sampling', prompt: 'fresh', times: 2 })).outcome.answered).toBe(2);
  });

  it("takes an answer only from the session that was asked, whoever else knows the request's id", async () => {
    const bobToken = await mint('bob');
    const bob = await connect(bobToken, { sampling: {} });
    const aliceToken = await mint('alice');
    const alice = await connect(aliceToken, { sampling: {} }, async (_asked, requestId) => {
      // Bob's session (another user) and a bare session-less POST answer Alice's request first.
      for (const sessionId of [bob.transport.sessionId!, undefined]) {
        const res = await postRaw(replica.url, sessionId ? bobToken : aliceToken, sessionId, {
          jsonrpc: '2.0',
          id: requestId,
          result: { role: 'assistant', model: 'forged', content: { type: 'text', text: 'forged' } },
        });
        expect(res.status).toBe(sessionId ? 202 : 400);
      }
      return { role: 'assistant', model: 'alice-model', content: { type: 'text', text: 'genuine' } };
    });
    const { outcome } = await ask(alice, { kind: 'sampling', prompt: 'who answers?' });
    expect(outcome.answer).toMatchObject({ model: 'alice-model', content: { text: 'genuine' } });
  });

  it('answers 202 to answers it never asked for, 400 to a malformed one, 413 to one too big to relay, and keeps serving', async () => {
    const token = await mint('alice');
    const agent = await connect(token, { sampling: {} });
    const bodies: unknown[] = [
      { jsonrpc: '2.0', id: 'vmcp-00000000-0000-4000-8000-000000000000', result: { role: 'assistant' } },
      { jsonrpc: '2.0', id: 'vmcp-not-a-uuid', result: {} },
      { jsonrpc: '2.0', id: 42, result: {} },
      [{ jsonrpc: '2.0', id: 'vmcp-00000000-0000-4000-8000-000000000002', error: { code: -1, message: 'x'.repeat(5000) } }],
    ];
    for (const body of bodies) {
      for (const base of [stack.baseUrl, replica.url]) {
        const res = await postRaw(base, token, agent.transport.sessionId, body);
        expect(res.status, JSON.stringify(body)).toBe(202);
      }
    }
    // Not a JSON-RPC message at all (an error's code must be an integer): refused as such.
    const malformed = await postRaw(replica.url, token, agent.transport.sessionId, {
      jsonrpc: '2.0',
      id: 'vmcp-00000000-0000-4000-8000-000000000001',
      error: { code: 'not a number', message: { nested: true } },
    });
    expect(malformed.status).toBe(400);
    const oversized = await postRaw(replica.url, token, agent.transport.sessionId, {
      jsonrpc: '2.0',
      id: 'vmcp-00000000-0000-4000-8000-000000000003',
      result: { content: { type: 'text', text: 'x'.repeat(1_200_000) } },
    });
    expect(oversized.status).toBe(413);
    expect(await oversized.json()).toMatchObject({ error: { code: -32600, data: { code: 'PAYLOAD_TOO_LARGE' } } });
    expect(await malformed.json()).toMatchObject({ error: { code: -32600, message: expect.stringContaining('not a valid JSON-RPC message') } });
    expect(textOf(await agent.client.callTool({ name: 'echo', arguments: { text: 'fine' } }))).toBe('fine');
  });

  it("drops the question when the agent cancels the call, and asks again on the next one", async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let calls = 0;
    const agent = await connect(await mint('alice'), { sampling: {} }, async () => {
      calls++;
      if (calls === 1) await held;
      return { role: 'assistant', model: 'm', content: { type: 'text', text: `answer ${calls}` } };
    });
    const stop = new AbortController();
    const first = agent.client.callTool({ name: 'ask', arguments: { kind: 'sampling', prompt: 'cancelled while asking' } }, undefined, { signal: stop.signal });
    await expect.poll(() => agent.asked.length, POLL).toBe(1);
    stop.abort();
    await expect(first).rejects.toThrow();
    // The upstream stopped waiting for the agent: its question failed, unanswered.
    await expect.poll(() => upstream.asks.find((a) => a.prompt === 'cancelled while asking'), POLL).toMatchObject({ answered: 0, error: expect.anything() });
    // The agent's late answer reaches nobody, harmlessly.
    release();
    const { outcome } = await ask(agent, { kind: 'sampling', prompt: 'two' });
    expect(outcome.answer).toMatchObject({ content: { text: 'answer 2' } });
    expect(upstream.asks.find((a) => a.prompt === 'two')).toEqual({ prompt: 'two', answered: 1 });
  });
  it('counts every relayed question by method and outcome, at the edge and at the executor', async () => {
    const counts = async (service: 'edge' | 'executor') => {
      const text = await (await fetch(`${stack.healthUrl(service)}/metrics`)).text();
      const out: Record<string, number> = {};
      for (const sample of parsePrometheusText(text).samples) {
        if (sample.name === 'vmcp_client_requests_total') out[`${sample.labels['method']} ${sample.labels['outcome']}`] = sample.value;
      }
      return out;
    };
    // What the tests above did: answered and refused questions, one dropped by a cancelled
    // call, two withheld, four past the per-call bound.
    expect(await counts('edge')).toMatchObject({
      'sampling/createMessage answered': expect.any(Number),
      'sampling/createMessage refused': 1,
      'sampling/createMessage cancelled': 1,
      'elicitation/create answered': expect.any(Number),
    });
    expect(await counts('executor')).toMatchObject({ 'sampling/createMessage withheld': 2, 'sampling/createMessage over_limit': 1 });
  });
});
