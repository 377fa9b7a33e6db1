import { timingSafeEqual, createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import { policy, VmcpError } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import type { Request } from 'express';

export type ApiPrincipal = { kind: 'admin' } | { kind: 'tenant'; tenant_id: string; key_id: string };

export function bearerOf(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer ([\x21-\x7e]{1,4096})$/i.exec(header.trim());
  return match?.[1];
}

function sameSecret(a: string, b: string): boolean {
  // Hash first so the comparison is constant-time whatever the lengths.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/**
 * Who is calling the management API: the platform admin (VMCP_ADMIN_KEY) or a tenant
 * (an API key policy knows). The tenant always comes from here, never from the body.
 */
@Injectable()
export class ApiPrincipalResolver {
  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly bus: Bus,
  ) {}

  async resolve(req: Request): Promise<ApiPrincipal> {
    const key = bearerOf(req);
    if (!key) throw new VmcpError('UNAUTHENTICATED', 'missing or malformed Authorization: Bearer <key> header');
    return this.resolveKey(key);
  }

  /** The principal of a key however it came (REST's bearer, the bus API's Vmcp-Api-Key header). */
  async resolveKey(key: string): Promise<ApiPrincipal> {
    if (sameSecret(key, this.config.adminKey)) return { kind: 'admin' };
    if (key.length > 512) throw new VmcpError('UNAUTHENTICATED', 'invalid API key');
    try {
      const found = await this.bus.request(policy.authenticateApiKey, { api_key: key });
      return { kind: 'tenant', ...found };
    } catch (err) {
      if (err instanceof VmcpError && (err.code === 'UNAUTHENTICATED' || err.code === 'NOT_FOUND' || err.code === 'INVALID_ARGUMENT')) {
        throw new VmcpError('UNAUTHENTICATED', 'invalid API key');
      }
      throw err;
    }
  }

  async admin(req: Request): Promise<void> {
    const p = await this.resolve(req);
    if (p.kind !== 'admin') throw new VmcpError('FORBIDDEN', 'this operation needs the platform admin key');
  }

  async tenant(req: Request): Promise<string> {
    return tenantOf(await this.resolve(req));
  }

  /** The tenant of a tenant API key; the admin key is refused as on REST's tenant routes. */
  async tenantOfKey(key: string): Promise<string> {
    return tenantOf(await this.resolveKey(key));
  }
}

function tenantOf(p: ApiPrincipal): string {
  if (p.kind !== 'tenant') throw new VmcpError('FORBIDDEN', 'this operation needs a tenant API key');
  return p.tenant_id;
}
