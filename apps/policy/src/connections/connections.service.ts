import { Injectable } from '@nestjs/common';
import {
  newId,
  policy,
  VmcpError,
  type AuthType,
  type Connection,
  type ConnectionSettingsInput,
  type ConnectionTarget,
} from '@vmcp/contracts';
import { findConnector } from '@vmcp/connectors';
import { Bus } from '@vmcp/messaging';
import { DataSource, nowIso } from '@vmcp/persistence';
import { Like } from 'typeorm';
import { AccountEntity, ConfigEntity, ConnectionEntity, type StoredSettings } from '../entities/policy.entities.js';
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

/** Checks a connection against the catalog; OAuth comes with the vault's OAuth support. */
function validate(connector: string, authType: AuthType, settings: ConnectionSettingsInput): StoredSettings {
  const info = findConnector(connector);
  if (!info) throw new VmcpError('INVALID_ARGUMENT', `connector: unknown connector "${connector}"`);
  if (!info.auth_types.includes(authType)) {
    throw new VmcpError('INVALID_ARGUMENT', `auth_type: connector ${connector} supports ${info.auth_types.join(', ')}`);
  }
  if (authType === 'oauth2' || settings.oauth) {
    throw new VmcpError('FAILED_PRECONDITION', 'oauth2 connections are not available yet');
  }
  const problem = info.validateSettings(settings, authType);
  if (problem) throw new VmcpError('INVALID_ARGUMENT', problem);
  const stored: StoredSettings = {};
  if (settings.url) stored.url = settings.url;
  if (settings.base_url) stored.base_url = settings.base_url;
  if (settings.header_name) stored.header_name = settings.header_name;
  if (settings.timeout_ms) stored.timeout_ms = settings.timeout_ms;
  return stored;
}

@Injectable()
export class ConnectionsService {
  constructor(
    private readonly ds: DataSource,
    private readonly bus: Bus,
  ) {}

  async create(tenantId: string, input: { name: string; connector: string; auth_type: AuthType; settings: ConnectionSettingsInput }) {
    const now = nowIso();
    const entity: ConnectionEntity = {
      id: newId('conn'),
      tenant_id: tenantId,
      name: input.name,
      connector: input.connector,
      auth_type: input.auth_type,
      settings: validate(input.connector, input.auth_type, input.settings),
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

  async update(tenantId: string, name: string, patch: { auth_type?: AuthType; settings?: ConnectionSettingsInput }) {
    const e = await this.byName(tenantId, name);
    const authType = patch.auth_type ?? (e.auth_type as AuthType);
    const settings = patch.settings ? validate(e.connector, authType, patch.settings) : validate(e.connector, authType, e.settings);
    const updated: ConnectionEntity = { ...e, auth_type: authType, settings, updated_at: nowIso() };
    await this.ds.getRepository(ConnectionEntity).save(updated);
    if (patch.auth_type && patch.auth_type !== e.auth_type) {
      // Stored credentials were for the old auth type; users must provide new ones.
      await this.ds.getRepository(AccountEntity).update({ connection_id: e.id }, { status: 'PENDING_AUTH', updated_at: nowIso() });
    }
    this.bus.publish(policy.connectionChanged, { tenant_id: tenantId, connection_id: e.id });
    return toConnection(updated);
  }

  async remove(tenantId: string, name: string): Promise<string[]> {
    const e = await this.byName(tenantId, name);
    const users = await this.ds.getRepository(ConfigEntity).findBy({ tenant_id: tenantId, mappings: Like(`%"${e.id}"%`) as never });
    if (users.length) {
      throw new VmcpError('FAILED_PRECONDITION', `connection "${name}" is mapped by config(s) ${users.map((c) => c.name).join(', ')}`);
    }
    const accounts = await this.ds.getRepository(AccountEntity).findBy({ tenant_id: tenantId, connection_id: e.id });
    await this.ds.transaction(async (m) => {
      await m.getRepository(AccountEntity).delete({ tenant_id: tenantId, connection_id: e.id });
      await m.getRepository(ConnectionEntity).delete({ id: e.id, tenant_id: tenantId });
    });
    this.bus.publish(policy.connectionChanged, { tenant_id: tenantId, connection_id: e.id });
    return accounts.map((a) => a.id);
  }
}
