import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import type { AuditSettings } from '@vmcp/contracts';
import { DataSource, nowIso } from '@vmcp/persistence';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';
import { In, LessThan, MoreThan } from 'typeorm';
import { AuditChainEntity, AuditRecordEntity } from '../chain/chain.entities.js';
import { checkLink } from '../chain/chain.js';
import { ToolCallLogEntity } from '../logs/tool-call-log.entity.js';
import { AuditSettingsEntity } from './audit-settings.entity.js';

/** Rows deleted per transaction: purging never holds a tenant's chain for long. */
export const PURGE_BATCH = 500;
const TENANTS_PER_PAGE = 100;
const DAY_MS = 86_400_000;

export interface PurgeResult {
  readonly records: number;
  readonly logs: number;
}

/**
 * Retention: per-tenant settings, and the job that purges older entries every
 * VMCP_AUDIT_PURGE_INTERVAL_MS on every replica. Records go oldest first (a prefix of the
 * chain) and the hash of the last purged one becomes the tenant's anchor, so the rest of
 * the chain still verifies; a record is purged once it and all before it are old enough,
 * and only while the chain links (a broken link stays there for verification to report).
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    private readonly ds: DataSource,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {}

  async getSettings(tenantId: string): Promise<{ settings: AuditSettings }> {
    const row = await this.ds.getRepository(AuditSettingsEntity).findOneBy({ tenant_id: tenantId });
    return { settings: row ? { retention_days: row.retention_days, updated_at: row.updated_at } : { retention_days: this.config.auditRetention.defaultDays, updated_at: null } };
  }

  async putSettings(tenantId: string, retentionDays: number): Promise<{ settings: AuditSettings }> {
    const row: AuditSettingsEntity = { tenant_id: tenantId, retention_days: retentionDays, updated_at: nowIso() };
    await this.ds.getRepository(AuditSettingsEntity).upsert(row, ['tenant_id']);
    return { settings: { retention_days: row.retention_days, updated_at: row.updated_at } };
  }

  onApplicationBootstrap(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.purgeAll()
        .catch((err: Error) => this.logger.error({ err: err.message }, 'audit purge failed; next run retries'))
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.config.auditRetention.purgeIntervalMs);
    this.timer.unref();
  }

  /** One pass over every tenant with audit data; `now` is a parameter so tests can move time. */
  async purgeAll(now: Date = new Date()): Promise<PurgeResult> {
    let records = 0;
    let logs = 0;
    let after = '';
    for (;;) {
      const tenants = await this.tenantsAfter(after);
      if (!tenants.length || this.stopped) break;
      const settings = new Map(
        (await this.ds.getRepository(AuditSettingsEntity).findBy({ tenant_id: In(tenants) })).map((s) => [s.tenant_id, s.retention_days]),
      );
      for (const tenant of tenants) {
        const days = settings.get(tenant) ?? this.config.auditRetention.defaultDays;
        const done = await this.purgeTenant(tenant, new Date(now.getTime() - days * DAY_MS).toISOString());
        records += done.records;
        logs += done.logs;
      }
      after = tenants[tenants.length - 1] ?? after;
    }
    if (records || logs) this.logger.info({ records, logs }, 'audit entries past retention purged');
    return { records, logs };
  }

  /** Tenants with a chain or log rows, in id order, a page at a time. */
  private async tenantsAfter(after: string): Promise<string[]> {
    const fromChains = await this.ds
      .getRepository(AuditChainEntity)
      .find({ select: { tenant_id: true }, where: { tenant_id: MoreThan(after) }, order: { tenant_id: 'ASC' }, take: TENANTS_PER_PAGE });
    const fromLogs = await this.ds
      .getRepository(ToolCallLogEntity)
      .createQueryBuilder('l')
      .select('DISTINCT l.tenant_id', 'tenant_id')
      .where('l.tenant_id > :after', { after })
      .orderBy('l.tenant_id')
      .limit(TENANTS_PER_PAGE)
      .getRawMany<{ tenant_id: string }>();
    const all = [...new Set([...fromChains.map((c) => c.tenant_id), ...fromLogs.map((l) => l.tenant_id)])].sort();
    return all.slice(0, TENANTS_PER_PAGE);
  }

  /** Purges one tenant's records and log rows older than `cutoff`, in bounded transactions. */
  async purgeTenant(tenantId: string, cutoff: string): Promise<PurgeResult> {
    let records = 0;
    for (let more = true; more && !this.stopped; ) {
      const step = await this.ds.transaction(async (m) => {
        const heads = m.getRepository(AuditChainEntity).createQueryBuilder('c').where('c.tenant_id = :t', { t: tenantId });
        if (m.connection.options.type === 'postgres') heads.setLock('pessimistic_write');
        const head = await heads.getOne();
        if (!head) return { purged: 0, more: false };
        const oldest = await m.getRepository(AuditRecordEntity).find({
          where: { tenant_id: tenantId, seq: MoreThan(head.anchor_seq) },
          order: { seq: 'ASC' },
          take: PURGE_BATCH,
        });
        // Purging never hides a break: it stops before the first record that does not link.
        let last: AuditRecordEntity | undefined;
        let prev = { seq: head.anchor_seq, hash: head.anchor_hash };
        for (const r of oldest) {
          if (r.occurred_at >= cutoff) break;
          const broken = checkLink(r, tenantId, prev.seq + 1, prev.hash);
          if (broken) {
            this.logger.error({ tenant_id: tenantId, seq: prev.seq + 1, reason: broken }, 'audit chain broken; retention does not purge past it');
            break;
          }
          last = r;
          prev = r;
        }
        if (!last) return { purged: 0, more: false };
        const purged = await m
          .createQueryBuilder()
          .delete()
          .from(AuditRecordEntity)
          .where('tenant_id = :t AND seq > :from AND seq <= :to', { t: tenantId, from: head.anchor_seq, to: last.seq })
          .execute();
        await m.getRepository(AuditChainEntity).update({ tenant_id: tenantId }, { anchor_seq: last.seq, anchor_hash: last.hash, updated_at: nowIso() });
        return { purged: purged.affected ?? 0, more: last === oldest[oldest.length - 1] && oldest.length === PURGE_BATCH };
      });
      records += step.purged;
      more = step.more;
    }
    let logs = 0;
    for (let more = true; more && !this.stopped; ) {
      const repo = this.ds.getRepository(ToolCallLogEntity);
      const ids = (
        await repo.find({ select: { execution_id: true }, where: { tenant_id: tenantId, started_at: LessThan(cutoff) }, take: PURGE_BATCH })
      ).map((r) => r.execution_id);
      if (ids.length) await repo.delete({ tenant_id: tenantId, execution_id: In(ids) });
      logs += ids.length;
      more = ids.length === PURGE_BATCH;
    }
    return { records, logs };
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
