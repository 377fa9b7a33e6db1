import type { AuditEvent } from '@vmcp/contracts';
import { describe, expect, it } from 'vitest';
import { mergeEvent } from './merge.js';

const facts = {
  execution_id: 'exe_0000000000000000000001',
  tenant_id: 'ten_0000000000000000000001',
  config_id: 'cfg_0000000000000000000001',
  connection_name: 'crm',
  connector: 'mcp',
  connected_account_id: 'ca_0000000000000000000001',
  identifier: 'alice',
  tool_name: 'lookup',
  source: 'mcp' as const,
  agent_run_id: null,
  started_at: '2026-11-24T10:00:00.000Z',
};
const started: AuditEvent = { ...facts, type: 'started', event_id: 'evt_1' };
const finished: AuditEvent = {
  ...facts,
  type: 'finished',
  event_id: 'evt_2',
  status: 'SUCCESS',
  error_code: null,
  error_message: null,
  duration_ms: 12,
  finished_at: '2026-11-24T10:00:00.012Z',
};

describe('mergeEvent', () => {
  it('gives the same complete row in either order, and duplicates change nothing', () => {
    const inOrder = mergeEvent(mergeEvent(undefined, started), finished);
    const reversed = mergeEvent(mergeEvent(undefined, finished), started);
    expect(inOrder).toEqual(reversed);
    expect(inOrder).toMatchObject({ status: 'SUCCESS', duration_ms: 12, finished_at: finished.finished_at });
    expect(mergeEvent(mergeEvent(inOrder, started), finished)).toEqual(inOrder);
  });

  it('records a denial as one complete row', () => {
    const row = mergeEvent(undefined, {
      ...facts,
      type: 'denied',
      event_id: 'evt_3',
      error_code: 'TOOL_NOT_FOUND',
      error_message: 'Tool "x" not found',
      duration_ms: 1,
      finished_at: facts.started_at,
    });
    expect(row).toMatchObject({ status: 'DENIED', error_code: 'TOOL_NOT_FOUND' });
  });

  it('keeps payload digests from both events, and captured payloads only when sent', () => {
    const sha = 'a'.repeat(64);
    const withArgs: AuditEvent = { ...started, arguments_size: 12, arguments_sha256: sha };
    const withResult: AuditEvent = { ...finished, result_size: 30, result_sha256: 'b'.repeat(64), result: { content: [] } };
    const row = mergeEvent(mergeEvent(undefined, withResult), withArgs);
    expect(row).toMatchObject({ arguments_size: 12, arguments_sha256: sha, arguments: null, result_size: 30, result: '{"content":[]}' });
    expect(mergeEvent(mergeEvent(undefined, withArgs), withResult)).toEqual(row);
  });

  it('keeps an in-flight call visible as STARTED', () => {
    expect(mergeEvent(undefined, started)).toMatchObject({ status: 'STARTED', finished_at: null });
  });
});
