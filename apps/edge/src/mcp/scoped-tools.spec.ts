import type { VmcpConfig } from '@vmcp/config';
import { policy, VmcpError, type ScopedTool, type SessionPrincipal, type UnavailableConnection } from '@vmcp/contracts';
import type { Bus } from '@vmcp/messaging';
import { describe, expect, it } from 'vitest';
import type { RevocationsService } from '../auth/revocations.service.js';
import { DecisionCache } from './decision-cache.js';
import { ScopedToolsService } from './scoped-tools.service.js';

const WHO: SessionPrincipal = { tenant_id: 'ten_a', config_id: 'cfg_1', identifier: 'alice' };
const ECHO: ScopedTool = { name: 'echo', connection_name: 'up', connector: 'mcp', definition: { name: 'echo', inputSchema: { type: 'object' } } as ScopedTool['definition'] };
const DOWN: UnavailableConnection = { connection_name: 'down', code: 'DEADLINE_EXCEEDED', message: 'upstream https://internal.example/mcp did not answer' };

/** The service over a real DecisionCache and a bus stub that answers each scopedTools request with the next reply. */
function serviceAnswering(...replies: Array<{ tools: ScopedTool[]; unavailable: UnavailableConnection[] }>) {
  let asked = 0;
  const bus = {
    request: async (rpc: unknown) => {
      expect(rpc).toBe(policy.scopedTools);
      const reply = replies[asked++];
      if (!reply) throw new Error('asked more often than expected');
      return reply;
    },
  } as unknown as Bus;
  const revocations = { onChange: () => undefined } as unknown as RevocationsService;
  const cache = new DecisionCache({ edgeCacheTtlMs: 30_000 } as VmcpConfig, revocations);
  return { service: new ScopedToolsService(bus, cache), asked: () => asked };
}

describe('ScopedToolsService', () => {
  it('keeps a complete list, so the next tools/list asks policy nothing', async () => {
    const { service, asked } = serviceAnswering({ tools: [ECHO], unavailable: [] });
    expect(await service.list(WHO)).toEqual({ tools: [ECHO], complete: true });
    expect(await service.list(WHO)).toEqual({ tools: [ECHO], complete: true });
    expect(asked()).toBe(1);
  });

  it('serves a list missing a connection as incomplete and never keeps it', async () => {
    const { service, asked } = serviceAnswering({ tools: [ECHO], unavailable: [DOWN] }, { tools: [ECHO], unavailable: [] });
    expect(await service.list(WHO)).toEqual({ tools: [ECHO], complete: false });
    expect(await service.list(WHO)).toEqual({ tools: [ECHO], complete: true });
    expect(asked()).toBe(2);
  });

  it('fails with UNAVAILABLE, naming the codes only, when a discovery failed and nothing is listed', async () => {
    const other: UnavailableConnection = { connection_name: 'other', code: 'UPSTREAM_ERROR', message: 'HTTP 500 from upstream' };
    const { service, asked } = serviceAnswering({ tools: [], unavailable: [DOWN, other, DOWN] }, { tools: [], unavailable: [] });
    const error = await service.list(WHO).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(VmcpError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('(DEADLINE_EXCEEDED, UPSTREAM_ERROR)') });
    expect((error as Error).message).not.toMatch(/internal\.example|HTTP 500|down|other/);
    // An empty list with nothing unavailable is the truth (no account, nothing mapped): listed, and kept.
    expect(await service.list(WHO)).toEqual({ tools: [], complete: true });
    expect(await service.list(WHO)).toEqual({ tools: [], complete: true });
    expect(asked()).toBe(2);
  });

  it('reads a reply from a policy replica that predates `unavailable` as complete', () => {
    expect(policy.scopedTools.reply.parse({ tools: [ECHO] })).toEqual({ tools: [ECHO], unavailable: [] });
  });
});
