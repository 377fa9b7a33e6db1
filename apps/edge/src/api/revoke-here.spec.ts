import type { VmcpConfig } from '@vmcp/config';
import { policy, VmcpError } from '@vmcp/contracts';
import type { Bus } from '@vmcp/messaging';
import type { Logger } from '@vmcp/telemetry';
import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import type { ApiPrincipalResolver } from '../auth/api-principal.js';
import { RevocationsService } from '../auth/revocations.service.js';
import type { ToolCallService } from '../mcp/tool-call.service.js';
import type { AuthorizationLinksService } from '../oauth/authorization-links.service.js';
import { ConfigsController } from './configs.controller.js';
import { TenantApiService } from './tenant-api.service.js';

// The replica that relays a revocation refuses the id at once, and only once policy has
// confirmed it: a refused request (another tenant's id, an unknown one) revokes nothing here.

const TOKEN = 'tok_01JXAAAAAAAAAAAAAAAAAAAAAA';
const CONFIG = 'cfg_01JXAAAAAAAAAAAAAAAAAAAAAA';

function setUp(answer: (subject: string) => unknown) {
  const bus = {
    request: async (rpc: { subject: string }) => {
      const reply = answer(rpc.subject);
      if (reply instanceof Error) throw reply;
      return reply;
    },
    subscribe: () => ({ unsubscribe: () => undefined }),
  } as unknown as Bus;
  const revocations = new RevocationsService({ revocationsBucket: 'unused' } as VmcpConfig, bus, { debug: () => undefined } as unknown as Logger);
  const told: string[] = [];
  revocations.onChange({ tenantChanged: () => undefined, reset: () => undefined, revoked: (id) => void told.push(id) });
  const ops = new TenantApiService(bus, {} as AuthorizationLinksService, {} as ToolCallService, revocations);
  const auth = { tenant: async () => 'ten_a' } as unknown as ApiPrincipalResolver;
  const configs = new ConfigsController(auth, bus, ops, revocations);
  return { revocations, ops, configs, told };
}

describe('a revocation relayed by this replica', () => {
  it('is refused here at once once policy confirmed it, and its streams are told', async () => {
    const { revocations, ops, configs, told } = setUp((subject) =>
      subject === policy.revokeToken.subject ? { token_id: TOKEN, revoked: true } : { config_id: CONFIG, deleted: true },
    );
    expect(revocations.isTokenRevoked(TOKEN)).toBe(false);
    await ops.revokeToken('ten_a', { token_id: TOKEN });
    expect(revocations.isTokenRevoked(TOKEN)).toBe(true);
    await configs.remove({} as Request, CONFIG);
    expect(revocations.isConfigDeleted(CONFIG)).toBe(true);
    expect(told).toEqual([TOKEN, CONFIG]);
    // The watch's own copy later is a no-op.
    revocations.revoke(TOKEN);
    expect(told).toEqual([TOKEN, CONFIG]);
  });

  it('revokes nothing here when policy refused it (another tenant’s or an unknown id)', async () => {
    const { revocations, ops, configs, told } = setUp(() => new VmcpError('NOT_FOUND', 'not found'));
    await expect(ops.revokeToken('ten_a', { token_id: TOKEN })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(configs.remove({} as Request, CONFIG)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(revocations.isTokenRevoked(TOKEN)).toBe(false);
    expect(revocations.isConfigDeleted(CONFIG)).toBe(false);
    expect(told).toEqual([]);
  });
});
