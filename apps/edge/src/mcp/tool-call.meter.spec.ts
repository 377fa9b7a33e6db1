import type { Decision } from '@vmcp/contracts';
import { VmcpMetrics } from '@vmcp/telemetry';
import { describe, expect, it } from 'vitest';
import { ToolCallMeter } from './tool-call.meter.js';

const context = { config_id: 'cfg_0123456789abcdef', connection_name: 'crm', connector: 'mcp', connected_account_id: 'ca_7Hq2kLm9PzX4vB1nC8dR0s' };
const allow = { decision: 'allow', context } as unknown as Decision;
const deny = (reason: string, ctx = context) => ({ decision: 'deny', context: ctx, reason, message: 'refused' }) as unknown as Decision;

async function counted(registry: VmcpMetrics): Promise<string[]> {
  return (await registry.scrape()).split('\n').filter((l) => l.startsWith('vmcp_tool_calls_total{'));
}

describe('ToolCallMeter', () => {
  it('counts an allowed call by its outcome and records every hop and the total', async () => {
    const registry = new VmcpMetrics();
    const ok = new ToolCallMeter('crm__search', registry);
    await ok.hop('decide', Promise.resolve(allow));
    ok.decided(allow);
    await ok.hop('audit_started', Promise.resolve());
    await ok.hop('execute', Promise.resolve());
    ok.succeeded(false);
    ok.failed(); // a second end is ignored

    const failing = new ToolCallMeter('crm__search', registry);
    failing.decided(allow);
    await expect(failing.hop('execute', Promise.reject(new Error('upstream down')))).rejects.toThrow();
    failing.failed();

    const text = await registry.scrape();
    expect(await counted(registry)).toEqual([
      'vmcp_tool_calls_total{tool="crm__search",connector="mcp",status="SUCCESS",decision="allow"} 1',
      'vmcp_tool_calls_total{tool="crm__search",connector="mcp",status="ERROR",decision="allow"} 1',
    ]);
    for (const hop of ['decide', 'audit_started', 'total']) expect(text).toContain(`vmcp_tool_call_duration_seconds_count{hop="${hop}"} `);
    expect(text).toContain('vmcp_tool_call_duration_seconds_count{hop="execute"} 2');
  });

  it('does not turn a name policy did not resolve into a label', async () => {
    const registry = new VmcpMetrics();
    const unknown = new ToolCallMeter('made_up_by_the_agent', registry);
    unknown.decided(deny('TOOL_NOT_FOUND', { ...context, connection_name: null, connector: null } as unknown as typeof context));
    unknown.failed();
    const inactive = new ToolCallMeter('crm__anything', registry);
    inactive.decided(deny('ACCOUNT_NOT_ACTIVE'));
    inactive.failed();
    const badArgs = new ToolCallMeter('crm__search', registry);
    badArgs.decided(deny('INVALID_ARGUMENT'));
    badArgs.failed();
    const policyDown = new ToolCallMeter('crm__search', registry);
    policyDown.failed();

    const lines = await counted(registry);
    expect(lines).toEqual([
      'vmcp_tool_calls_total{tool="unresolved",connector="none",status="DENIED",decision="deny"} 2',
      'vmcp_tool_calls_total{tool="unresolved",connector="mcp",status="DENIED",decision="deny"} 1',
      'vmcp_tool_calls_total{tool="crm__search",connector="mcp",status="DENIED",decision="deny"} 1',
    ]);
    expect(lines.join('\n')).not.toMatch(/made_up|crm__anything|ca_7Hq2/);
  });
});
