import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { newId, VmcpError, type Tenant } from '@vmcp/contracts';
import { DataSource, nowIso } from '@vmcp/persistence';
import { ApiKeyEntity, TenantEntity } from '../entities/policy.entities.js';
import { isUniqueViolation, paginate } from '../shared/pagination.js';

function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function toTenant(e: TenantEntity): Tenant {
  return { id: e.id, name: e.name, created_at: e.created_at };
}

@Injectable()
export class TenantsService {
  constructor(private readonly ds: DataSource) {}

  async create(name: string): Promise<{ tenant: Tenant; key_id: string; api_key: string }> {
    const tenant: TenantEntity = { id: newId('ten'), name, created_at: nowIso() };
    try {
      await this.ds.getRepository(TenantEntity).insert(tenant);
    } catch (err) {
      if (isUniqueViolation(err)) throw new VmcpError('ALREADY_EXISTS', `tenant "${name}" already exists`);
      throw err;
    }
    const key = await this.createKey(tenant.id);
    return { tenant: toTenant(tenant), ...key };
  }

  async list(pageSize: number, pageToken?: string) {
    const qb = this.ds.getRepository(TenantEntity).createQueryBuilder('t');
    const page = await paginate(qb, 't', pageSize, pageToken);
    return { tenants: page.items.map(toTenant), ...(page.next_page_token ? { next_page_token: page.next_page_token } : {}) };
  }

  async createKey(tenantId: string): Promise<{ key_id: string; api_key: string }> {
    if (!(await this.ds.getRepository(TenantEntity).existsBy({ id: tenantId }))) {
      throw new VmcpError('NOT_FOUND', `tenant ${tenantId} not found`);
    }
    const apiKey = `vmcp_sk_${randomBytes(32).toString('base64url')}`;
    const keyId = newId('key');
    await this.ds.getRepository(ApiKeyEntity).insert({
      id: keyId,
      tenant_id: tenantId,
      key_hash: hashKey(apiKey),
      created_at: nowIso(),
      revoked_at: null,
    });
    return { key_id: keyId, api_key: apiKey };
  }

  async revokeKey(tenantId: string, keyId: string): Promise<void> {
    const result = await this.ds
      .getRepository(ApiKeyEntity)
      .update({ id: keyId, tenant_id: tenantId }, { revoked_at: nowIso() });
    if (!result.affected) throw new VmcpError('NOT_FOUND', `API key ${keyId} not found`);
  }

  async authenticate(apiKey: string): Promise<{ tenant_id: string; key_id: string }> {
    const row = await this.ds.getRepository(ApiKeyEntity).findOneBy({ key_hash: hashKey(apiKey) });
    if (!row || row.revoked_at) throw new VmcpError('UNAUTHENTICATED', 'invalid API key');
    return { tenant_id: row.tenant_id, key_id: row.id };
  }
}
