import { afterEach, describe, expect, it } from 'vitest';
import { reply, startFakeEdge, type FakeEdge } from '../test/fake-edge.js';
import { Vmcp, VmcpApiError, VmcpError, VmcpTimeoutError, type ToolCallLog } from './index.js';

const API_KEY = 'vmcp_sk_test_streams';

let edge: FakeEdge | undefined;
afterEach(async () => {
  await edge?.close();
  edge = undefined;
});

function entry(n: number, tool_name = 'echo'): ToolCallLog {
  return {
    execution_id: `exe_${n}`,
    tenant_id: 'ten_1',
    config_id: 'cfg_1',
    connection_name: 'upstream',
    connector: 'mcp',
    connected_account_id: 'ca_1',
    identifier: 'alice',
    tool_name,
    source: 'api',
    agent_run_id: null,
    status: 'SUCCESS',
    error_code: null,
    error_message: null,
    duration_ms: 3,
    started_at: '2025-01-01T00:00:00Z',
    finished_at: '2025-01-01T00:00:01Z',
    arguments_size: null,
    arguments_sha256: null,
    result_size: null,
    result_sha256: null,
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('iterate', () => {
  it('walks every page with the filter, following next_page_token', async () => {
    const pages: Record<string, { items: number[]; next?: string }> = {
      '': { items: [1, 2], next: 'p2' },
      p2: { items: [3, 4], next: 'p3' },
      p3: { items: [5] },
    };
    edge = await startFakeEdge((req, res) => {
      const page = pages[new URL(req.url, 'http://x').searchParams.get('page_token') ?? '']!;
      reply(res, 200, { tool_call_logs: page.items.map((n) => entry(n)), ...(page.next ? { next_page_token: page.next } : {}) });
    });
    const vmcp = new Vmcp({ baseUrl: edge.url, apiKey: API_KEY });

    const ids = (await collect(vmcp.toolCallLogs.iterate({ identifier: 'alice', page_size: 2 }))).map((e) => e.execution_id);

    expect(ids).toEqual(['exe_1', 'exe_2', 'exe_3', 'exe_4', 'exe_5']);
    expect(edge.requests.map((r) => r.url)).toEqual([
      '/api/v1/tool_call_logs?identifier=alice&page_size=2',
      '/api/v1/tool_call_logs?identifier=alice&page_size=2&page_token=p2',
      '/api/v1/tool_call_logs?identifier=alice&page_size=2&page_token=p3',
    ]);
  });

  it('fetches no further page once the loop stops', async () => {
    edge = await startFakeEdge((_req, res) => reply(res, 200, { connections: [{ name: 'a' }, { name: 'b' }], next_page_token: 'more' }));
    const vmcp = new Vmcp({ baseUrl: edge.url, apiKey: API_KEY });
    for await (const c of vmcp.connections.iterate()) {
      if (c.name === 'a') break;
    }
    expect(edge.requests).toHaveLength(1);
  });
});

describe('toolCallLogs.export', () => {
  it('hands over each line as it arrives, across chunks that cut lines anywhere', async () => {
    const lines = [entry(1), entry(2), entry(3)].map((e) => `${JSON.stringify(e)}\n`);
    let firstReceived!: () => void;
    const received = new Promise<void>((resolve) => (firstReceived = resolve));
    edge = await startFakeEdge(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(lines[0]!.slice(0, 20));
      await tick();
      res.write(lines[0]!.slice(20));
      // The rest does not exist until the client has handed over the first line: no buffering.
      await received;
      const rest = lines[1]! + lines[2]!;
      for (const [from, to] of [[0, 7], [7, 150], [150, rest.length]] as const) {
        res.write(rest.slice(from, to));
        await tick();
      }
      res.end();
    });
    const vmcp = new Vmcp({ baseUrl: edge.url, apiKey: API_KEY });

    const seen: string[] = [];
    for await (const log of vmcp.toolCallLogs.export({ tool_name: 'café' })) {
      seen.push(log.execution_id);
      if (seen.length === 1) firstReceived();
    }

    expect(seen).toEqual(['exe_1', 'exe_2', 'exe_3']);
    expect(edge.requests[0]).toMatchObject({ url: '/api/v1/tool_call_logs/export?tool_name=caf%C3%A9' });
    expect(edge.requests[0]!.headers.accept).toBe('application/x-ndjson');
  });

  it('decodes a multi-byte character split between two chunks', async () => {
    const line = Buffer.from(`${JSON.stringify(entry(1, 'naïve'))}\n`, 'utf8');
    const cut = line.indexOf(Buffer.from('ï')) + 1;
    edge = await startFakeEdge(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(line.subarray(0, cut));
      await tick();
      res.end(line.subarray(cut));
    });
    const vmcp = new Vmcp({ baseUrl: edge.url, apiKey: API_KEY });
    expect((await collect(vmcp.toolCallLogs.export())).map((e) => e.tool_name)).toEqual(['naïve']);
  });

  it('throws the error line a failing export ends with, after the entries before it', async () => {
    edge = await startFakeEdge((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(`${JSON.stringify(entry(1))}\n${JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'audit is not answering' } })}\n`);
    });
    const vmcp = new Vmcp({ baseUrl: edge.url, apiKey: API_KEY });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const log of vmcp.toolCallLogs.export()) seen.push(log.execution_id);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['exe_1']);
    expect(err).toBeInstanceOf(VmcpApiError);
    expect(err).toMatchObject({ status: 200, code: 'UNAVAILABLE', message: 'GET /api/v1/tool_call_logs/export: audit is not answering' });
  });

  it('throws a plain API error before the first line, and a line that is not JSON as a VmcpError', async () => {
    edge = await startFakeEdge((req, res) =>
      req.url.includes('status=BOGUS')
        ? reply(res, 400, { error: { code: 'INVALID_ARGUMENT', message: 'status: invalid option' } })
        : res.writeHead(200).end('{"execution_id": "exe_1"}\nnot json\n'),
    );
    const vmcp = new Vmcp({ baseUrl: edge.url, apiKey: API_KEY });
    await expect(collect(vmcp.toolCallLogs.export({ status: 'BOGUS' as 'SUCCESS' }))).rejects.toMatchObject({ status: 400, code: 'INVALID_ARGUMENT' });
    const err = await collect(vmcp.toolCallLogs.export()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VmcpError);
    expect((err as Error).message).toBe('the export stream sent a line that is not JSON');
  });

  it('runs past timeoutMs while lines keep coming, and times out when they stop', async () => {
    // Gaps well under the timeout (room for a loaded CI machine), a whole export well over it.
    const gapMs = 100;
    const timeoutMs = 1500;
    const lines = 20;
    edge = await startFakeEdge(async (req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      for (let n = 1; n <= lines; n++) {
        res.write(`${JSON.stringify(entry(n))}\n`);
        await new Promise((resolve) => setTimeout(resolve, gapMs));
      }
      if (req.url.includes('identifier=stall')) return; // never ends
      res.end();
    });
    const vmcp = new Vmcp({ baseUrl: edge.url, apiKey: API_KEY, timeoutMs });
    const started = Date.now();
    expect(await collect(vmcp.toolCallLogs.export())).toHaveLength(lines);
    expect(Date.now() - started).toBeGreaterThan(timeoutMs);

    const seen: string[] = [];
    const err = await (async () => {
      for await (const log of vmcp.toolCallLogs.export({ identifier: 'stall' })) seen.push(log.execution_id);
    })().catch((e: unknown) => e);
    expect(seen).toHaveLength(lines);
    expect(err).toBeInstanceOf(VmcpTimeoutError);
  });

  it('does not count the time the caller spends on a line as the server’s silence', async () => {
    let secondLineTaken!: () => void;
    const taken = new Promise<void>((resolve) => (secondLineTaken = resolve));
    edge = await startFakeEdge(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(`${JSON.stringify(entry(1))}\n${JSON.stringify(entry(2))}\n`);
      await taken;
      res.end();
    });
    // The sink takes three times the timeout; the server's end then has a whole timeout to arrive.
    const vmcp = new Vmcp({ baseUrl: edge.url, apiKey: API_KEY, timeoutMs: 500 });
    const seen: string[] = [];
    for await (const log of vmcp.toolCallLogs.export()) {
      seen.push(log.execution_id);
      if (seen.length === 1) await new Promise((resolve) => setTimeout(resolve, 1500)); // a slow sink
      else secondLineTaken();
    }
    expect(seen).toEqual(['exe_1', 'exe_2']);
  });

  it('closes the connection when the loop stops early', async () => {
    let closed!: () => void;
    const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
    edge = await startFakeEdge((_req, res) => {
      res.on('close', () => closed());
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(`${JSON.stringify(entry(1))}\n`); // and never ends on its own
    });
    const vmcp = new Vmcp({ baseUrl: edge.url, apiKey: API_KEY });
    for await (const log of vmcp.toolCallLogs.export()) {
      expect(log.execution_id).toBe('exe_1');
      break;
    }
    await connectionClosed;
  });
});
