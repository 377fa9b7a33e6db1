import { Injectable } from '@nestjs/common';
import {
  newId,
  policy,
  VmcpError,
  type AccountStatus,
  type AuthType,
  type Connection,
  type ConnectionSettingsInput,
  type ConnectionTarget,
} from '@vmcp/contracts';
import { findConnector, type ConnectorInfo } from '@vmcp/connectors';
import { Bus } from '@vmcp/messaging';
import { DataSource, nowIso } from '@vmcp/persistence';
import { Like } from 'typeorm';
import { AccountEntity, ConfigEntity, ConnectionEntity, type StoredSettings } from '../entities/policy.entities.js';
import { RevocationsKv } from '../shared/revocations.kv.js';
import { EventOutbox } from '../events/event-outbox.service.js';
import { statusChangedEvent } from '../events/status-changed.event.js';
import { isUniqueViolation, paginate } from '../shared/pagination.js';

export function toConnection(e: ConnectionEntity): Connection {
  return {
    id: e.id,
    name: e.name,
    connector: e.connector,
    auth_type: e.auth_type as AuthType,
    settings: { ...e.settings },
    created_at: e.created_at,
    updated_at: e.updated_at,
  };
}

export function toTarget(e: ConnectionEntity): ConnectionTarget {
  return { id: e.id, name: e.name, connector: e.connector, auth_type: e.auth_type as AuthType, settings: { ...e.settings } };
}

/**
 * Checks a connection against the catalog. `clientSecretSet` says whether the vault holds
 * an OAuth client secret for it (the secret itself never comes to policy).
 */
function validate(connector: string, authType: AuthType, settings: ConnectionSettingsInput, clientSecretSet: boolean): StoredSettings {
  const info = findConnector(connector);
  if (!info) throw new VmcpError('INVALID_ARGUMENT', `connector: unknown connector "${connector}"`);
  if (!info.auth_types.includes(authType)) {
    throw new VmcpError('INVALID_ARGUMENT', `auth_type: connector ${connector} supports ${info.auth_types.join(', ')}`);
  }
  const problem = info.validateSettings(settings, authType);
  if (problem) throw new VmcpError('INVALID_ARGUMENT', problem);
  const stored: StoredSettings = {};
  if (settings.url) stored.url = settings.url;
  if (settings.base_url) stored.base_url = settings.base_url;
  if (settings.header_name) stored.header_name = settings.header_name;
  if (settings.timeout_ms) stored.timeout_ms = settings.timeout_ms;
  if (settings.tool_timeouts_ms && Object.keys(settings.tool_timeouts_ms).length) stored.tool_timeouts_ms = settings.tool_timeouts_ms;
  if (settings.openapi) {
    // It travels with every call of the connection: kept only where a connector reads it.
    if (connector !== 'openapi') throw new VmcpError('INVALID_ARGUMENT', 'settings.openapi: only for the openapi connector');
    stored.openapi = settings.openapi as NonNullable<StoredSettings['openapi']>;
  }
  if (authType === 'oauth2') stored.oauth = oauthSettings(info, settings, clientSecretSet);
  else if (settings.oauth) throw new VmcpError('INVALID_ARGUMENT', 'settings.oauth: only for auth_type oauth2');
  return stored;
}

/** The OAuth client of an oauth2 connection: the connection's values over the connector's defaults. */
function oauthSettings(info: ConnectorInfo, settings: ConnectionSettingsInput, clientSecretSet: boolean): NonNullable<StoredSettings['oauth']> {
  const o = settings.oauth;
  if (!o) throw new VmcpError('INVALID_ARGUMENT', 'settings.oauth: required for auth_type oauth2 (client_id, client_secret, scopes, …)');
  if (o.client_secret !== undefined) throw new VmcpError('INTERNAL', 'an OAuth client secret reached policy; it belongs in the vault');
  const authorizeUrl = o.authorize_url ?? info.oauth?.authorize_url;
  const tokenUrl = o.token_url ?? info.oauth?.token_url;
  if (!authorizeUrl || !tokenUrl) {
    throw new VmcpError('INVALID_ARGUMENT', `settings.oauth: authorize_url and token_url are required for connector ${info.id}`);
  }
  const method = o.token_endpoint_auth_method ?? (clientSecretSet ? 'client_secret_basic' : 'none');
  if (method !== 'none' && !clientSecretSet) {
    throw new VmcpError('INVALID_ARGUMENT', `settings.oauth.client_secret: required with token_endpoint_auth_method ${method}`);
  }
  const revocationUrl = o.revocation_url ?? info.oauth?.revocation_url;
  return {
    client_id: o.client_id,
    client_secret_set: clientSecretSet,
    scopes: o.scopes.length ? [...o.scopes] : [...(info.oauth?.scopes ?? [])],
    authorize_url: authorizeUrl,
    token_url: tokenUrl,
    ...(revocationUrl ? { revocation_url: revocationUrl } : {}),
    ...(o.issuer ? { issuer: o.issuer } : {}),
    token_endpoint_auth_method: method,
  };
}

@Injectable()
export class ConnectionsService {
  constructor(
    private readonly ds: DataSource,
    private readonly bus: Bus,
    private readonly revocations: RevocationsKv,
    private readonly outbox: EventOutbox,
  ) {}

  async create(
    tenantId: string,
    input: { name: string; connector: string; auth_type: AuthType; settings: ConnectionSettingsInput; client_secret_set?: boolean | undefined },
  ) {
    const now = nowIso();
    const entity: ConnectionEntity = {
      id: newId('conn'),
      tenant_id: tenantId,
      name: input.name,
      connector: input.connector,
      auth_type: input.auth_type,
      settings: validate(input.connector, input.auth_type, input.settings, input.client_secret_set ?? false),
      created_at: now,
      updated_at: now,
    };
    try {
      await this.ds.getRepository(ConnectionEntity).insert(entity);
    } catch (err) {
      if (isUniqueViolation(err)) throw new VmcpError('ALREADY_EXISTS', `connection "${input.name}" already exists`);
      throw err;
    }
    return toConnection(entity);
  }

  async list(tenantId: string, pageSize: number, pageToken?: string) {
    const qb = this.ds.getRepository(ConnectionEntity).createQueryBuilder('c').where('c.tenant_id = :t', { t: tenantId });
    const page = await paginate(qb, 'c', pageSize, pageToken);
    return { connections: page.items.map(toConnection), ...(page.next_page_token ? { next_page_token: page.next_page_token } : {}) };
  }

  async byName(tenantId: string, name: string): Promise<ConnectionEntity> {
    const e = await this.ds.getRepository(ConnectionEntity).findOneBy({ tenant_id: tenantId, name });
    if (!e) throw new VmcpError('NOT_FOUND', `connection "${name}" not found`);
    return e;
  }

  async byIds(tenantId: string, ids: string[]): Promise<Map<string, ConnectionEntity>> {
    if (!ids.length) return new Map();
    const rows = await this.ds
      .getRepository(ConnectionEntity)
      .createQueryBuilder('c')
      .where('c.tenant_id = :t', { t: tenantId })
      .andWhere('c.id IN (:...ids)', { ids })
      .getMany();
    return new Map(rows.map((r) => [r.id, r]));
  }

  async update(
    tenantId: string,
    name: string,
    patch: { auth_type?: AuthType | undefined; settings?: ConnectionSettingsInput | undefined; client_secret_set?: boolean | undefined },
  ) {
    const e = await this.byName(tenantId, name);
    const authType = patch.auth_type ?? (e.auth_type as AuthType);
    const secretSet = patch.client_secret_set ?? e.settings.oauth?.client_secret_set ?? false;
    // Stored OAuth settings read back as input: the flag is not an input field.
    const current = (): ConnectionSettingsInput => {
      const { oauth, ...rest } = e.settings;
      if (!oauth) return rest;
      const { client_secret_set: _set, ...client } = oauth;
      return { ...rest, oauth: client };
    };
    const settings = validate(e.connector, authType, patch.settings ?? current(), secretSet);
    const updated: ConnectionEntity = { ...e, auth_type: authType, settings, updated_at: nowIso() };
    await this.ds.getRepository(ConnectionEntity).save(updated);
    if (patch.auth_type && patch.auth_type !== e.auth_type) {
      // Stored credentials were for the old auth type; users must provide new ones.
      await this.ds.getRepository(AccountEntity).update({ connection_id: e.id }, { status: 'PENDING_AUTH', updated_at: nowIso() });
    }
    this.bus.publish(policy.connectionChanged, { tenant_id: tenantId, connection_id: e.id });
    await this.revocations.touchTenant(tenantId);
    return toConnection(updated);
  }

  async remove(tenantId: string, name: string): Promise<{ connection_id: string; account_ids: string[] }> {
    const e = await this.byName(tenantId, name);
    const users = await this.ds.getRepository(ConfigEntity).findBy({ tenant_id: tenantId, mappings: Like(`%"${e.id}"%`) as never });
    if (users.length) {
      throw new VmcpError('FAILED_PRECONDITION', `connection "${name}" is mapped by config(s) ${users.map((c) => c.name).join(', ')}`);
    }
    const accounts = await this.ds.transaction(async (m) => {
      const gone = await m.getRepository(AccountEntity).findBy({ tenant_id: tenantId, connection_id: e.id });
      // Each account still in use ends DISCONNECTED, as a user-visible event like any disconnect.
      const occurredAt = nowIso();
      for (const a of gone) {
        if (a.status === 'DISCONNECTED') continue;
        await this.outbox.stage(
          m,
          statusChangedEvent({ tenantId, accountId: a.id, connectionName: e.name, identifier: a.identifier, previous: a.status as AccountStatus, status: 'DISCONNECTED', occurredAt }),
        );
      }
      await m.getRepository(AccountEntity).delete({ tenant_id: tenantId, connection_id: e.id });
      await m.getRepository(ConnectionEntity).delete({ id: e.id, tenant_id: tenantId });
      return gone;
    });
    this.outbox.publishSoon();
    this.bus.publish(policy.connectionChanged, { tenant_id: tenantId, connection_id: e.id });
    await this.revocations.touchTenant(tenantId);
    return { connection_id: e.id, account_ids: accounts.map((a) => a.id) };
  }
}
