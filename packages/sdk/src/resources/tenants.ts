import { paginate } from '../pagination.js';
import type { Requester } from '../transport.js';
import type { CreatedApiKey, CreateTenantInput, CreateTenantResult, PageRequest, RevokedApiKey, Tenant, TenantPage } from '../types.js';

/** Tenants and their API keys: the platform admin's side (the client needs the admin key). */
export class Tenants {
  constructor(private readonly transport: Requester) {}

  /** Creates a tenant and its first API key, which is shown this once. */
  create(input: CreateTenantInput): Promise<CreateTenantResult> {
    return this.transport.json('tenants.create', { body: input });
  }

  list(page: PageRequest = {}): Promise<TenantPage> {
    return this.transport.json('tenants.list', { query: page });
  }

  iterate(page: Omit<PageRequest, 'page_token'> = {}): AsyncIterable<Tenant> {
    return paginate((page_token) => this.list({ ...page, page_token }), (p) => p.tenants);
  }

  /** Another key for the tenant (for rotation without downtime); shown this once. */
  createApiKey(tenantId: string): Promise<CreatedApiKey> {
    return this.transport.json('tenants.createApiKey', { params: { tenant_id: tenantId } });
  }

  /** Revokes the key at once, on every replica. */
  revokeApiKey(tenantId: string, keyId: string): Promise<RevokedApiKey> {
    return this.transport.json('tenants.revokeApiKey', { params: { tenant_id: tenantId, key_id: keyId } });
  }
}
