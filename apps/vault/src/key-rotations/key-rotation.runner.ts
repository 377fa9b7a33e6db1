import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import { VmcpError } from '@vmcp/contracts';
import { DataSource, nowIso } from '@vmcp/persistence';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';
import { DataKeysService } from '../keys/data-keys.service.js';
import { KEK_PROVIDER, type KeyEncryptionKeyProvider } from '../keys/key-encryption-key.provider.js';
import { KeyRotationEntity } from './key-rotation.entity.js';
import { reencryptOAuthClients } from '../oauth/oauth-client-rotation.js';
import { VaultEvents } from '../oauth/vault-events.js';
import { reencryptCredentials, rewrapDataKeys, type BatchResult } from './rotation-batches.js';

export interface KeyRotationSettings {
  /** Rows per batch; progress and the lease are written after each. */
  readonly batchSize: number;
  /** How long a claimed job stays with its replica without progress; also how often idle replicas look for orphaned jobs. */
  readonly leaseMs: number;
}

export const DEFAULT_KEY_ROTATION_SETTINGS: KeyRotationSettings = { batchSize: 100, leaseMs: 30_000 };

/** Nest injection token of the KeyRotationSettings. */
export const KEY_ROTATION_SETTINGS = Symbol.for('vmcp.vault.key-rotation-settings');

export interface RunOptions {
  /** Stop after this many batches without finishing or releasing the job, as a crashed replica would (tests). */
  readonly abandonAfterBatches?: number;
}

/**
 * Works on RUNNING key-rotation jobs in the background, in batches. A job is claimed with a
 * lease so that one replica works on it at a time; the lease is extended with every batch and
 * released on a graceful stop, and when it runs out (a crash) any replica takes the job over,
 * on its next look: at start, when asked (`kick`), and every lease period. Safety does not
 * hang on the lease, though: every row update is a compare-and-set, so even two replicas on
 * one job (a lease that ran out under a slow batch) never overwrite each other's work.
 */
@Injectable()
export class KeyRotationRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  /** This replica, as written into `lease_owner`. */
  readonly owner = `${hostname().slice(0, 96)}/${process.pid}/${randomBytes(6).toString('hex')}`;
  private active?: Promise<void>;
  private again = false;
  private stopping = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly ds: DataSource,
    private readonly keys: DataKeysService,
    @Inject(KEK_PROVIDER) private readonly kek: KeyEncryptionKeyProvider,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
    @Inject(KEY_ROTATION_SETTINGS) private readonly settings: KeyRotationSettings,
    @Optional() private readonly events?: VaultEvents,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.kick(), this.settings.leaseMs);
    this.timer.unref();
    this.kick();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.active;
  }

  /** Looks for work in the background; a kick while a pass is running asks for one more pass. */
  kick(): void {
    if (this.stopping) return;
    if (this.active) {
      this.again = true;
      return;
    }
    this.active = this.runPending()
      .catch((err: Error) => this.logger.error({ err: err.message }, 'key rotation runner failed; retrying on the next pass'))
      .finally(() => {
        this.active = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves when the background pass (if any) has ended. */
  async idle(): Promise<void> {
    while (this.active) await this.active;
  }

  /** Claims and runs every job this replica may run, until none is left. */
  async runPending(options: RunOptions = {}): Promise<void> {
    while (!this.stopping) {
      const job = await this.claimNext();
      if (!job) return;
      // run() itself releases a job claimed just as the service began to stop.
      await this.run(job, options);
      if (options.abandonAfterBatches !== undefined) return;
    }
  }

  /**
   * The oldest RUNNING job whose lease is free or ran out. A master job only on a replica whose
   * current master key is its target: during a rolling restart the replicas still on the old
   * key leave it alone.
   */
  private async claimNext(): Promise<KeyRotationEntity | undefined> {
    const now = nowIso();
    const candidates = await this.repo()
      .createQueryBuilder('r')
      .where("r.status = 'RUNNING'")
      .andWhere('(r.lease_until IS NULL OR r.lease_until < :now)', { now })
      .andWhere("(r.kind = 'tenant' OR r.target_kek_id = :kek)", { kek: this.kek.id })
      .orderBy('r.created_at', 'ASC')
      .addOrderBy('r.id', 'ASC')
      .take(10)
      .getMany();
    for (const candidate of candidates) {
      const claimed = await this.repo()
        .createQueryBuilder()
        .update()
        .set({ lease_owner: this.owner, lease_until: this.leaseEnd(), updated_at: nowIso() })
        .where("id = :id AND status = 'RUNNING' AND (lease_until IS NULL OR lease_until < :now)", { id: candidate.id, now })
        .execute();
      if (claimed.affected) return { ...candidate, lease_owner: this.owner };
    }
    return undefined;
  }

  private async run(job: KeyRotationEntity, options: RunOptions): Promise<void> {
    this.logger.info({ key_rotation_id: job.id, scope: job.kind, tenant_id: job.tenant_id, done: job.done }, 'key rotation claimed');
    for (let batches = 1; ; batches++) {
      if (this.stopping) return this.finish(job.id, {});
      let step: BatchResult;
      try {
        step = await this.batch(job);
      } catch (err) {
        // A key or row that cannot be read will not read next time either: the job stops with
        // the reason (ids only). Anything else (database, KMS) may pass: the lease is kept, so
        // the job is tried again, here or elsewhere, once it runs out.
        if (err instanceof VmcpError) return this.finish(job.id, { status: 'FAILED', error: err.message });
        this.logger.warn({ key_rotation_id: job.id, err: (err as Error).message }, 'key rotation batch failed; retrying after the lease');
        return;
      }
      if (!(await this.progress(job.id, step))) {
        this.logger.info({ key_rotation_id: job.id }, 'key rotation lost its lease or was superseded');
        return;
      }
      if (step.remaining === 0) {
        await this.finish(job.id, { status: 'COMPLETED' });
        // Executors holding credentials sealed under the old version drop those sessions.
        if (job.kind === 'tenant' && job.tenant_id) this.events?.credentialChanged({ tenant_id: job.tenant_id, account_id: null, reason: 'rotated' });
        return;
      }
      if (options.abandonAfterBatches !== undefined && batches >= options.abandonAfterBatches) return;
    }
  }

  private async batch(job: KeyRotationEntity): Promise<BatchResult> {
    const limit = this.settings.batchSize;
    if (job.kind === 'master') return rewrapDataKeys(this.ds, this.kek, limit);
    if (job.kind === 'tenant' && job.tenant_id && job.target_version) {
      // Credentials first, then the connections' OAuth client secrets, in the same job.
      const credentials = await reencryptCredentials(this.ds, this.keys, job.tenant_id, job.target_version, limit);
      const clients = await reencryptOAuthClients(this.ds, this.keys, job.tenant_id, job.target_version, limit - credentials.moved);
      return { moved: credentials.moved + clients.moved, remaining: credentials.remaining + clients.remaining };
    }
    throw new VmcpError('INTERNAL', `key rotation ${job.id} has an unknown kind`);
  }

  /** Counts a batch and extends the lease, if the job is still ours and still RUNNING. */
  private async progress(id: string, step: BatchResult): Promise<boolean> {
    const result = await this.repo()
      .createQueryBuilder()
      .update()
      .set({
        done: () => 'done + :moved',
        total: () => 'done + :moved + :remaining',
        lease_until: this.leaseEnd(),
        updated_at: nowIso(),
      })
      .setParameters({ moved: step.moved, remaining: step.remaining })
      .where("id = :id AND lease_owner = :owner AND status = 'RUNNING'", { id, owner: this.owner })
      .execute();
    return Boolean(result.affected);
  }

  /** Ends our hold on a job: with a final status, or (on a graceful stop) by releasing it at once. */
  private async finish(id: string, end: { status?: 'COMPLETED' | 'FAILED'; error?: string }): Promise<void> {
    const now = nowIso();
    await this.repo()
      .createQueryBuilder()
      .update()
      .set({
        lease_owner: null,
        lease_until: null,
        updated_at: now,
        ...(end.status ? { status: end.status, finished_at: now, error: end.error ?? null } : {}),
      })
      .where("id = :id AND lease_owner = :owner AND status = 'RUNNING'", { id, owner: this.owner })
      .execute();
    const log = { key_rotation_id: id, status: end.status ?? 'RUNNING', error: end.error };
    if (end.status === 'FAILED') this.logger.warn(log, 'key rotation failed');
    else this.logger.info(log, end.status ? 'key rotation finished' : 'key rotation released');
  }

  private leaseEnd(): string {
    return new Date(Date.now() + this.settings.leaseMs).toISOString();
  }

  private repo() {
    return this.ds.getRepository(KeyRotationEntity);
  }
}
