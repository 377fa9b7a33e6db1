import 'reflect-metadata';
import { audit, newId, type AuditEvent } from '@vmcp/contracts';
import { Bus, publishAuditEvent } from '@vmcp/messaging';
import {
  DATABASE_KINDS,
  databaseEnv,
  startInProcessService,
  startNatsServer,
  uniqueName,
  waitFor,
  type InProcessService,
  type NatsServerHandle,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditModule } from '../src/audit.module.js';
import { AuditWriterService } from '../src/ingest/audit-writer.service.js';

// The audit service in-process on a private NATS, against both databases: events
// published to the stream become one complete, queryable row per call.

describe.each(DATABASE_KINDS)('audit on %s', (kind) => {
  let nats: NatsServerHandle;
  let service: InProcessService;
  let client: Bus;
  const db = databaseEnv(kind);
  const stream = uniqueName('AUDIT_');
  const tenant = newId('ten');
  const other = newId('ten');

  const call = (over: Partial<AuditEvent> & { execution_id: string; started_at: string }) => {
    const facts = {
      tenant_id: tenant,
      config_id: newId('cfg'),
      connection_name: 'crm',
      connector: 'mcp',
      connected_account_id: newId('ca'),
      identifier: 'alice',
      tool_name: 'lookup',
      source: 'mcp' as const,
      agent_run_id: null,
      ...over,
    };
    const started = { ...facts, type: 'started', event_id: newId('evt') } as AuditEvent;
    const finished = {
      ...facts,
      type: 'finished',
      event_id: newId('evt'),
      status: 'SUCCESS',
      error_code: null,
      error_message: null,
      duration_ms: 5,
      finished_at: facts.started_at,
    } as AuditEvent;
    return { started, finished };
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    service = await startInProcessService({
      service: 'audit',
      natsUrl: nats.url,
      env: { ...db.env, VMCP_AUDIT_STREAM: stream },
      module: (core) => AuditModule.forRoot(core),
      beforeListen: (app) => app.get(AuditWriterService).start(),
    });
    client = await Bus.connect({ url: nats.url, name: 'audit-test-client', timeoutMs: 3000 });
  });

  afterAll(async () => {
    await client?.close();
    await service?.close();
    await nats?.stop();
    await db.drop();
  });

  it('stores one complete row per call, whatever the order, without doubling duplicates', async () => {
    const a = call({ execution_id: newId('exe'), started_at: '2026-11-24T10:00:00.000Z' });
    const b = call({ execution_id: newId('exe'), started_at: '2026-11-24T10:00:01.000Z', identifier: 'bob' });
    for (const e of [a.started, a.finished, a.finished, b.finished, b.started, a.started]) await publishAuditEvent(client, stream, e);
    const denied: AuditEvent = {
      ...a.started,
      type: 'denied',
      event_id: newId('evt'),
      execution_id: newId('exe'),
      started_at: '2026-11-24T10:00:02.000Z',
      finished_at: '2026-11-24T10:00:02.001Z',
      error_code: 'TOOL_NOT_FOUND',
      error_message: 'Tool "x" not found',
      duration_ms: 1,
    };
    await publishAuditEvent(client, stream, denied);
    const logs = await waitFor(
      async () => {
        const r = await client.request(audit.listToolCallLogs, { tenant_id: tenant });
        return r.tool_call_logs.length === 3 && r.tool_call_logs.every((l) => l.status !== 'STARTED') ? r.tool_call_logs : undefined;
      },
      { what: 'three stored calls' },
    );
    expect(logs.map((l) => [l.execution_id, l.status])).toEqual([
      [denied.execution_id, 'DENIED'],
      [b.started.execution_id, 'SUCCESS'],
      [a.started.execution_id, 'SUCCESS'],
    ]);
    expect((await client.request(audit.getToolCallLog, { tenant_id: tenant, execution_id: a.started.execution_id })).tool_call_log).toMatchObject({
      duration_ms: 5,
      identifier: 'alice',
    });
    await expect(client.request(audit.getToolCallLog, { tenant_id: other, execution_id: a.started.execution_id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('filters, pages newest first, and isolates tenants', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const c = call({ execution_id: newId('exe'), started_at: `2026-11-25T10:00:${String(i).padStart(2, '0')}.000Z`, identifier: 'pager', agent_run_id: i % 2 ? 'run-odd' : 'run-even' });
      ids.push(c.started.execution_id);
      await publishAuditEvent(client, stream, c.started);
      await publishAuditEvent(client, stream, c.finished);
    }
    await publishAuditEvent(client, stream, call({ execution_id: newId('exe'), started_at: '2026-11-25T10:00:00.000Z', tenant_id: other, identifier: 'pager' }).started);
    // The other tenant's record goes through another write lane: waited for too, not assumed.
    await waitFor(
      async () =>
        (await client.request(audit.listToolCallLogs, { tenant_id: tenant, identifier: 'pager', status: 'SUCCESS', page_size: 200 })).tool_call_logs.length === 25 &&
        (await client.request(audit.listToolCallLogs, { tenant_id: other, identifier: 'pager' })).tool_call_logs.length === 1,
      { what: "25 rows, and the other tenant's one" },
    );
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.request(audit.listToolCallLogs, { tenant_id: tenant, identifier: 'pager', page_size: 10, ...(token ? { page_token: token } : {}) });
      seen.push(...page.tool_call_logs.map((l) => l.execution_id));
      token = page.next_page_token;
    } while (token);
    expect(seen).toEqual([...ids].reverse());
    const odd = await client.request(audit.listToolCallLogs, { tenant_id: tenant, agent_run_id: 'run-odd', page_size: 200 });
    expect(odd.tool_call_logs).toHaveLength(12);
    const window = await client.request(audit.listToolCallLogs, {
      tenant_id: tenant,
      identifier: 'pager',
      start_time: '2026-11-25T11:00:05+01:00',
      end_time: '2026-11-25T10:00:10Z',
    });
    expect(window.tool_call_logs).toHaveLength(5);
    expect((await client.request(audit.listToolCallLogs, { tenant_id: other, identifier: 'pager' })).tool_call_logs).toHaveLength(1);
    await expect(client.request(audit.listToolCallLogs, { tenant_id: tenant, page_token: 'not-a-token' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('refuses to publish when the stream cannot take the record', async () => {
    const e = call({ execution_id: newId('exe'), started_at: '2026-11-24T10:00:00.000Z' }).started;
    await expect(publishAuditEvent(client, uniqueName('NO_SUCH_'), e)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
