import type { AddressInfo } from 'node:net';
import { newId, VmcpError, type SessionPrincipal } from '@vmcp/contracts';
import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { McpController } from './mcp.controller.js';
import type { SessionRecord } from './mcp-sessions.service.js';

// Which leg serves a 2025-era tools/call: the edge's own answer (PlainToolsCall) or a
// per-request SDK server. The e2e (apps/edge/test/plain-call.e2e.spec.ts) shows both
// answer alike; this shows the plain leg is the one taken, and only when it may be.

const principal: SessionPrincipal = { tenant_id: newId('ten'), config_id: newId('cfg'), identifier: 'alice', token_id: newId('tok') };
const SESSION_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const session = (over: Partial<SessionRecord> = {}): SessionRecord => ({
  tenant_id: principal.tenant_id,
  config_id: principal.config_id,
  identifier: principal.identifier,
  token_id: principal.token_id ?? null,
  protocol_version: '2025-11-25',
  client_capabilities: {},
  client_info: { name: 'agent', version: '1' },
  created_at: new Date().toISOString(),
  ...over,
});

describe('McpController: the plain tools/call leg', () => {
  const calls = { call: vi.fn() };
  const servers = { create: vi.fn() };
  const sessions = { get: vi.fn() };
  const inFlight = { track: vi.fn(), cancel: vi.fn() };
  let server: ReturnType<ReturnType<typeof express>['listen']>;
  let url: string;

  beforeAll(async () => {
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const controller = new McpController(
      { publicUrl: 'http://vmcp.test' } as never,
      { verify: vi.fn(async () => principal), mcpServerUrl: (id: string) => `http://vmcp.test/mcp/${id}` } as never,
      { isConfigDeleted: () => false } as never,
      sessions as never,
      servers as never,
      {} as never,
      {} as never,
      inFlight as never,
      { deliver: vi.fn(async () => false) } as never,
      calls as never,
      logger as never,
    );
    const app = express();
    app.use(express.json());
    app.all('/mcp/:configId', (req, res) => void controller.handle(req.params.configId, req, res));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp/${principal.config_id}`;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  beforeEach(() => {
    vi.clearAllMocks();
    sessions.get.mockResolvedValue(session());
    inFlight.track.mockReturnValue({ signal: new AbortController().signal, done: vi.fn() });
    calls.call.mockResolvedValue({ executionId: newId('exe'), result: { content: [{ type: 'text', text: 'ok' }] } });
    // The SDK leg is refused here: a request that reaches it answers 500.
    servers.create.mockImplementation(() => {
      throw new Error('SDK leg');
    });
  });

  const post = (params: Record<string, unknown>) =>
    fetch(url, {
      method: 'POST',
      headers: {
        authorization: 'Bearer t.t.t',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': SESSION_ID,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params }),
    });

  it('answers a plain call itself: the call, under the verified principal, tracked for cancellation, no SDK server', async () => {
    const res = await post({ name: 'echo', arguments: { text: 'x' } });
    expect(await res.text()).toBe('{"result":{"content":[{"type":"text","text":"ok"}]},"jsonrpc":"2.0","id":9}');
    expect(servers.create).not.toHaveBeenCalled();
    expect(calls.call).toHaveBeenCalledOnce();
    expect(calls.call.mock.calls[0]?.[0]).toMatchObject({ principal, toolName: 'echo', arguments: { text: 'x' }, source: 'mcp', signal: expect.any(AbortSignal) });
    expect(inFlight.track).toHaveBeenCalledWith(expect.any(String), 9, expect.any(AbortSignal));
    expect(inFlight.track.mock.results[0]?.value.done).toHaveBeenCalledOnce();
  });

  it.each([
    ['set a log level', session({ log_level: 'info' })],
    ['declared sampling', session({ client_capabilities: { sampling: {} } })],
    ['declared elicitation', session({ client_capabilities: { elicitation: {} } })],
  ])('leaves the call of a session that %s to the SDK (its answer streams)', async (_case, record) => {
    sessions.get.mockResolvedValue(record);
    expect((await post({ name: 'echo', arguments: {} })).status).toBe(500);
    expect(servers.create).toHaveBeenCalled();
    expect(calls.call).not.toHaveBeenCalled();
  });

  it('leaves a call with _meta to the SDK', async () => {
    expect((await post({ name: 'echo', _meta: { progressToken: 1 } })).status).toBe(500);
    expect(servers.create).toHaveBeenCalled();
    expect(calls.call).not.toHaveBeenCalled();
  });

  it("refuses another user's session before any call, as the SDK leg does", async () => {
    sessions.get.mockResolvedValue(session({ identifier: 'bob' }));
    const res = await post({ name: 'echo', arguments: {} });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: 9 });
    expect(calls.call).not.toHaveBeenCalled();
    expect(servers.create).not.toHaveBeenCalled();
  });

  it('answers 503 when the session store cannot be reached, and calls nothing', async () => {
    sessions.get.mockRejectedValue(new VmcpError('UNAVAILABLE', 'sessions unavailable'));
    const res = await post({ name: 'echo', arguments: {} });
    expect(res.status).toBe(503);
    expect(calls.call).not.toHaveBeenCalled();
  });
});
