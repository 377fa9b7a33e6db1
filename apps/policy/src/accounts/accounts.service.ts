import { Injectable } from '@nestjs/common';
import { newId, policy, STATIC_AUTH_TYPES, VmcpError, type AccountStatus, type AuthType, type ConnectedAccount } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import { DataSource, nowIso } from '@vmcp/persistence';
import { AccountEntity, ConnectionEntity } from '../entities/policy.entities.js';
import { RevocationsKv } from '../shared/revocations.kv.js';
import { ConnectionsService } from '../connections/connections.service.js';
import { EventOutbox } from '../events/event-outbox.service.js';
import { statusChangedEvent } from '../events/status-changed.event.js';
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
    private readonly revocations: RevocationsKv,
    private readonly connections: ConnectionsService,
    private readonly outbox: EventOutbox,
  ) {}

  /**
   * Finds or creates the record of (connection, identifier); a new one waits for its
   * credential: posted once (`static`), or through an authorization link (`oauth2`).
   */
  async prepare(tenantId: string, connectionName: string, identifier: string, flow: 'static' | 'oauth2' = 'static') {
    const connection = await this.connections.byName(tenantId, connectionName);
    if (flow === 'static' && !(STATIC_AUTH_TYPES as readonly string[]).includes(connection.auth_type)) {
      const hint = connection.auth_type === 'oauth2' ? '; create an authorization link instead' : '';
      throw new VmcpError('FAILED_PRECONDITION', `connection "${connectionName}" uses ${connection.auth_type}, which takes no static credential${hint}`);
    }
    if (flow === 'oauth2' && connection.auth_type !== 'oauth2') {
      throw new VmcpError('FAILED_PRECONDITION', `connection "${connectionName}" uses ${connection.auth_type}, not oauth2: post its credential instead`);
    }
    const { account, created } = await this.findOrCreate(tenantId, connection, identifier, 'PENDING_AUTH');
    return { connected_account: toAccount(account, connection), connection_id: connection.id, created };
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

  /**
   * Sets the status; a real change also stages a `connected_account.status_changed` event
   * in the same transaction (published after commit, at least once: see EventOutbox).
   */
  async setStatus(tenantId: string, accountId: string, status: AccountStatus) {
    const { account, connection, changed } = await this.changeStatus(tenantId, accountId, status);
    if (changed) this.outbox.publishSoon();
    this.bus.publish(policy.accountChanged, { tenant_id: tenantId, account_id: accountId, status });
    await this.revocations.touchTenant(tenantId);
    return { connected_account: toAccount(account, connection) };
  }

  private async changeStatus(tenantId: string, accountId: string, status: AccountStatus) {
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.tryChangeStatus(tenantId, accountId, status);
      if (outcome) return outcome;
      if (attempt >= 5) throw new VmcpError('UNAVAILABLE', `connected account ${accountId} is changing concurrently; try again`);
    }
  }

  private tryChangeStatus(tenantId: string, accountId: string, status: AccountStatus) {
    return this.ds.transaction(async (m) => {
      const repo = m.getRepository(AccountEntity);
      const account = await repo.findOneBy({ id: accountId, tenant_id: tenantId });
      if (!account) throw new VmcpError('NOT_FOUND', `connected account ${accountId} not found`);
      const connection = await m.getRepository(ConnectionEntity).findOneByOrFail({ id: account.connection_id });
      const previous = account.status as AccountStatus;
      const updated_at = nowIso();
      // Compare-and-set on the status read, so two concurrent changes each report the true previous status.
      const { affected } = await repo.update({ id: accountId, tenant_id: tenantId, status: previous }, { status, updated_at });
      if (!affected) return undefined;
      if (previous !== status) {
        await this.outbox.stage(
          m,
          statusChangedEvent({ tenantId, accountId, connectionName: connection.name, identifier: account.identifier, previous, status, occurredAt: updated_at }),
        );
      }
      return { account: { ...account, status, updated_at }, connection, changed: previous !== status };
    });
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
