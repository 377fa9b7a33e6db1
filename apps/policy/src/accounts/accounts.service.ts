import { Injectable } from '@nestjs/common';
import { newId, policy, STATIC_AUTH_TYPES, VmcpError, type AccountStatus, type AuthType, type ConnectedAccount } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import { DataSource, nowIso } from '@vmcp/persistence';
import { AccountEntity, ConnectionEntity } from '../entities/policy.entities.js';
import { ConnectionsService } from '../connections/connections.service.js';
import { isUniqueViolation, paginate } from '../shared/pagination.js';

function toAccount(a: AccountEntity, c: ConnectionEntity): ConnectedAccount {
  return {
    id: a.id,
    connection_name: c.name,
    identifier: a.identifier,
    auth_type: c.auth_type as AuthType,
    status: a.status as AccountStatus,
    created_at: a.created_at,
    updated_at: a.updated_at,
  };
}

@Injectable()
export class AccountsService {
  constructor(
    private readonly ds: DataSource,
    private readonly bus: Bus,
    private readonly connections: ConnectionsService,
  ) {}

  /** Finds or creates the record of (connection, identifier); a new one waits for its credential. */
  async prepare(tenantId: string, connectionName: string, identifier: string) {
    const connection = await this.connections.byName(tenantId, connectionName);
    if (!(STATIC_AUTH_TYPES as readonly string[]).includes(connection.auth_type)) {
      throw new VmcpError('FAILED_PRECONDITION', `connection "${connectionName}" uses ${connection.auth_type}, which takes no static credential`);
    }
    const { account, created } = await this.findOrCreate(tenantId, connection, identifier, 'PENDING_AUTH');
    return { connected_account: toAccount(account, connection), created };
  }

  private async findOrCreate(tenantId: string, connection: ConnectionEntity, identifier: string, status: AccountStatus) {
    const repo = this.ds.getRepository(AccountEntity);
    const existing = await repo.findOneBy({ connection_id: connection.id, identifier });
    if (existing) return { account: existing, created: false };
    const now = nowIso();
    const account: AccountEntity = { id: newId('ca'), tenant_id: tenantId, connection_id: connection.id, identifier, status, created_at: now, updated_at: now };
    try {
      await repo.insert(account);
      return { account, created: true };
    } catch (err) {
      // A concurrent request created it first.
      if (isUniqueViolation(err)) return { account: await repo.findOneByOrFail({ connection_id: connection.id, identifier }), created: false };
      throw err;
    }
  }

  async setStatus(tenantId: string, accountId: string, status: AccountStatus) {
    const repo = this.ds.getRepository(AccountEntity);
    const account = await repo.findOneBy({ id: accountId, tenant_id: tenantId });
    if (!account) throw new VmcpError('NOT_FOUND', `connected account ${accountId} not found`);
    const connection = await this.ds.getRepository(ConnectionEntity).findOneByOrFail({ id: account.connection_id });
    account.status = status;
    account.updated_at = nowIso();
    await repo.save(account);
    this.bus.publish(policy.accountChanged, { tenant_id: tenantId, account_id: accountId, status });
    return { connected_account: toAccount(account, connection) };
  }

  async get(tenantId: string, accountId: string) {
    const account = await this.ds.getRepository(AccountEntity).findOneBy({ id: accountId, tenant_id: tenantId });
    if (!account) throw new VmcpError('NOT_FOUND', `connected account ${accountId} not found`);
    const connection = await this.ds.getRepository(ConnectionEntity).findOneByOrFail({ id: account.connection_id });
    return { connected_account: toAccount(account, connection) };
  }

  async list(tenantId: string, filter: { identifier?: string; connection_name?: string }, pageSize: number, pageToken?: string) {
    const qb = this.ds.getRepository(AccountEntity).createQueryBuilder('a').where('a.tenant_id = :t', { t: tenantId });
    if (filter.identifier) qb.andWhere('a.identifier = :i', { i: filter.identifier });
    if (filter.connection_name) {
      const connection = await this.ds.getRepository(ConnectionEntity).findOneBy({ tenant_id: tenantId, name: filter.connection_name });
      if (!connection) return { connected_accounts: [] };
      qb.andWhere('a.connection_id = :c', { c: connection.id });
    }
    const page = await paginate(qb, 'a', pageSize, pageToken);
    const connections = await this.connections.byIds(tenantId, [...new Set(page.items.map((a) => a.connection_id))]);
    return {
      connected_accounts: page.items.flatMap((a) => {
        const c = connections.get(a.connection_id);
        return c ? [toAccount(a, c)] : [];
      }),
      ...(page.next_page_token ? { next_page_token: page.next_page_token } : {}),
    };
  }

  /**
   * The identifier's usable account on a connection, if any. Connections without auth
   * need no credential, so their accounts are created ACTIVE on first use.
   */
  async usable(tenantId: string, connection: ConnectionEntity, identifier: string): Promise<AccountEntity | undefined> {
    if (connection.auth_type === 'none') return (await this.findOrCreate(tenantId, connection, identifier, 'ACTIVE')).account;
    const account = await this.ds.getRepository(AccountEntity).findOneBy({ connection_id: connection.id, identifier });
    return account?.status === 'ACTIVE' ? account : undefined;
  }

  async forIdentifier(tenantId: string, connectionIds: string[], identifier: string): Promise<Map<string, AccountEntity>> {
    if (!connectionIds.length) return new Map();
    const rows = await this.ds
      .getRepository(AccountEntity)
      .createQueryBuilder('a')
      .where('a.tenant_id = :t', { t: tenantId })
      .andWhere('a.identifier = :i', { i: identifier })
      .andWhere('a.connection_id IN (:...ids)', { ids: connectionIds })
      .getMany();
    return new Map(rows.map((r) => [r.connection_id, r]));
  }
}
