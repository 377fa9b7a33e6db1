import { describe, expect, it } from 'vitest';
import { scrapeAllowed, VmcpMetrics } from './metrics.js';

/** Sample lines of a scrape as name → [labels, value] (HELP/TYPE lines skipped). */
function samples(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(l);
      if (!m) throw new Error(`not a sample line: ${l}`);
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
      return { name: m[1]!, labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) };
    });
}

function value(text: string, name: string, labels: Record<string, string> = {}): number {
  return samples(text)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

describe('VmcpMetrics', () => {
  it('counts tool calls by tool, connector, status and decision, with the hop times', async () => {
    const m = new VmcpMetrics({ service: 'vmcp-test' });
    m.toolCalls.count({ tool: 'echo', connector: 'mcp', status: 'SUCCESS' });
    m.toolCalls.count({ tool: 'echo', connector: 'mcp', status: 'SUCCESS' });
    m.toolCalls.count({ tool: null, connector: null, status: 'DENIED' });
    m.toolCalls.hop('decide', 0.0004);
    m.toolCalls.hop('total', 0.002);
    const text = await m.scrape();
    expect(value(text, 'vmcp_tool_calls_total', { tool: 'echo', connector: 'mcp', status: 'SUCCESS', decision: 'allow' })).toBe(2);
    expect(value(text, 'vmcp_tool_calls_total', { tool: 'unresolved', connector: 'none', status: 'DENIED', decision: 'deny' })).toBe(1);
    expect(value(text, 'vmcp_tool_call_duration_seconds_bucket', { hop: 'decide', le: '0.0005' })).toBe(1);
    expect(value(text, 'vmcp_tool_call_duration_seconds_count', { hop: 'total' })).toBe(1);
    expect(text).toContain('target_info{service_name="vmcp-test"}');
    expect(text).toContain('# TYPE vmcp_tool_calls_total counter');
    expect(text).toContain('# TYPE vmcp_tool_call_duration_seconds histogram');
    await m.shutdown();
  });

  it('caps the tool label: beyond the limit every new tool is "other"', async () => {
    const m = new VmcpMetrics({ maxToolLabels: 3 });
    for (let i = 0; i < 50; i++) m.toolCalls.count({ tool: `tool${i}`, connector: 'mcp', status: 'SUCCESS' });
    const text = await m.scrape();
    const tools = new Set(samples(text).filter((s) => s.name === 'vmcp_tool_calls_total').map((s) => s.labels.tool));
    expect([...tools].sort()).toEqual(['other', 'tool0', 'tool1', 'tool2']);
    expect(value(text, 'vmcp_tool_calls_total', { tool: 'other' })).toBe(47);
  });

  it('never writes an id, a token or an error message as a label', async () => {
    const secret = 'eyJhbGciOiJFZERTQSJ9.c2VjcmV0.c2ln';
    const m = new VmcpMetrics();
    m.toolCalls.count({ tool: 'ca_7Hq2kLm9PzX4vB1nC8dR0s', connector: secret, status: 'ERROR' });
    m.http.request({ method: 'GET', route: null, status: 404, durationSeconds: 0.001 });
    m.http.request({ method: 'BREW', route: '/api/v1/connections/:name', status: 200, durationSeconds: 0.001 });
    m.bus.request('vmcp.vault.v1.credentials.resolve', 0.01, { code: 'NOT_FOUND', message: `no credential for ${secret}` });
    m.bus.request('vmcp.policy.v1.decide', 3, { code: 'DEADLINE_EXCEEDED' });
    m.bus.handled('vmcp.policy.v1.decide', 'OK', 0.001);
    m.executor.call('mcp', 0.2, { error: new Error(`upstream said ${secret}`) });
    m.executor.call('mcp', 0.1, { toolError: true });
    m.vault.decrypt('bearer_token', 'ok');
    m.vault.decrypt(secret, 'failed');
    m.vault.refresh('refused');
    await m.vault.link(Promise.resolve({ link: secret })).catch(() => undefined);
    await m.vault.callback(Promise.reject(Object.assign(new Error(secret), { code: 'FAILED_PRECONDITION' }))).catch(() => undefined);
    m.audit.batchWritten(7, 0.004);
    const text = await m.scrape();
    expect(text).not.toContain(secret);
    expect(text).not.toContain('ca_7Hq2');
    for (const s of samples(text)) for (const v of Object.values(s.labels)) expect(v).toMatch(/^[A-Za-z0-9_.:/+-]{1,96}$/);

    expect(value(text, 'vmcp_tool_calls_total', { tool: 'other', connector: 'other', status: 'ERROR', decision: 'allow' })).toBe(1);
    expect(value(text, 'vmcp_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(value(text, 'vmcp_http_requests_total', { method: 'other', route: '/api/v1/connections/:name', status: '200' })).toBe(1);
    expect(value(text, 'vmcp_nats_request_errors_total', { subject: 'vmcp.vault.v1.credentials.resolve', code: 'NOT_FOUND' })).toBe(1);
    expect(value(text, 'vmcp_nats_request_timeouts_total', { subject: 'vmcp.policy.v1.decide' })).toBe(1);
    expect(value(text, 'vmcp_nats_request_duration_seconds_count', { subject: 'vmcp.policy.v1.decide' })).toBe(1);
    expect(value(text, 'vmcp_nats_handler_duration_seconds_count', { subject: 'vmcp.policy.v1.decide', code: 'OK' })).toBe(1);
    expect(value(text, 'vmcp_executor_upstream_errors_total', { connector: 'mcp', code: 'INTERNAL' })).toBe(1);
    expect(value(text, 'vmcp_executor_upstream_call_duration_seconds_count', { connector: 'mcp', result: 'tool_error' })).toBe(1);
    expect(value(text, 'vmcp_vault_credential_decrypts_total', { auth_type: 'other', result: 'failed' })).toBe(1);
    expect(value(text, 'vmcp_vault_oauth_refreshes_total', { outcome: 'refused' })).toBe(1);
    expect(value(text, 'vmcp_vault_oauth_links_total', { result: 'created' })).toBe(1);
    expect(value(text, 'vmcp_vault_oauth_callbacks_total', { outcome: 'FAILED_PRECONDITION' })).toBe(1);
    expect(value(text, 'vmcp_audit_events_written_total')).toBe(7);
    expect(value(text, 'vmcp_audit_write_batch_size_events_bucket', { le: '10' })).toBe(1);
  });

  it('reports observed gauges only while observed, and nothing when the value is unknown', async () => {
    const m = new VmcpMetrics();
    let state: { pending: number; ackPending: number } | undefined = { pending: 12, ackPending: 3 };
    const stop = m.audit.observeConsumer(() => state);
    const stopSessions = m.executor.observeSessions(() => [{ connector: 'mcp', sessions: 4 }]);
    let text = await m.scrape();
    expect(value(text, 'vmcp_audit_consumer_pending_messages')).toBe(12);
    expect(value(text, 'vmcp_audit_consumer_ack_pending_messages')).toBe(3);
    expect(value(text, 'vmcp_executor_upstream_sessions', { connector: 'mcp' })).toBe(4);
    state = undefined;
    text = await m.scrape();
    expect(samples(text).some((s) => s.name === 'vmcp_audit_consumer_pending_messages')).toBe(false);
    stop();
    stopSessions();
    text = await m.scrape();
    expect(samples(text).some((s) => s.name === 'vmcp_executor_upstream_sessions')).toBe(false);
  });
});

describe('scrapeAllowed', () => {
  it('lets every scrape through without a token, and only the right bearer with one', () => {
    expect(scrapeAllowed(undefined, undefined)).toBe(true);
    expect(scrapeAllowed(undefined, 'metrics-token-0123456789')).toBe(false);
    expect(scrapeAllowed('Bearer wrong', 'metrics-token-0123456789')).toBe(false);
    expect(scrapeAllowed('metrics-token-0123456789', 'metrics-token-0123456789')).toBe(false);
    expect(scrapeAllowed('Bearer metrics-token-0123456789', 'metrics-token-0123456789')).toBe(true);
  });
});
