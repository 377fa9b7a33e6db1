import { Inject, Injectable } from '@nestjs/common';
import { newId, VmcpError, type RpcReply, type RpcRequestParsed, type vaultKeys } from '@vmcp/contracts';
import { DataSource, nowIso } from '@vmcp/persistence';
import { VMCP_LOGGER } from '@vmcp/runtime';
import type { Logger } from '@vmcp/telemetry';
import { CredentialEntity } from '../../credentials/credential.entity.js';
import { DataKeysService } from '../../keys/data-keys.service.js';
import { KEK_PROVIDER, type KeyEncryptionKeyProvider } from '../../keys/key-encryption-key.provider.js';
import { TenantKeyEntity } from '../../keys/tenant-key.entity.js';
import { OAuthClientEntity } from '../../oauth/oauth.entities.js';
import { KeyRotationEntity, toKeyRotation } from '../key-rotation.entity.js';
import { KeyRotationRunner } from '../key-rotation.runner.js';

type Reply = RpcReply<typeof vaultKeys.startMasterRotation>;
type TenantRequest = RpcRequestParsed<typeof vaultKeys.startTenantRotation>;

/** Starts rotation jobs; the runner does the work in the background, on this or another replica. */
@Injectable()
export class StartRotationHandler {
  constructor(
    private readonly ds: DataSource,
    private readonly keys: DataKeysService,
    @Inject(KEK_PROVIDER) private readonly kek: KeyEncryptionKeyProvider,
    private readonly runner: KeyRotationRunner,
    @Inject(VMCP_LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Re-wrap every data key with this replica's current master key. Asking again while that
   * job runs returns it; a job still running for another (older) target is superseded, since
   * the new one moves every row that is not on the current key anyway.
   */
  async master(): Promise<Reply> {
    const target = this.kek.id;
    const running = await this.repo().find({ where: { kind: 'master', status: 'RUNNING' }, order: { created_at: 'ASC' } });
    const same = running.find((r) => r.target_kek_id === target);
    if (same) {
      this.runner.kick();
      return { key_rotation: toKeyRotation(same) };
    }
    const total = await this.ds.getRepository(TenantKeyEntity).createQueryBuilder('k').where('k.kek_id <> :target', { target }).getCount();
    const job = await this.insert({ kind: 'master', tenant_id: null, target_version: null, target_kek_id: target, total });
    for (const old of running) {
      await this.repo()
        .createQueryBuilder()
        .update()
        .set({ status: 'FAILED', error: `superseded by ${job.id}`, finished_at: job.created_at, updated_at: job.created_at, lease_owner: null, lease_until: null })
        .where("id = :id AND status = 'RUNNING'", { id: old.id })
        .execute();
    }
    this.logger.info({ key_rotation_id: job.id, target_kek_id: target, total }, 'master-key rotation started');
    this.runner.kick();
    return { key_rotation: toKeyRotation(job) };
  }

  /** A new data-key version for the tenant (used by new writes at once), then its credentials re-encrypted. */
  async tenant(req: TenantRequest): Promise<Reply> {
    const running = await this.repo().findOneBy({ kind: 'tenant', tenant_id: req.tenant_id, status: 'RUNNING' });
    if (running) throw new VmcpError('ALREADY_EXISTS', `a data-key rotation of tenant ${req.tenant_id} is already running: ${running.id}`);
    const { version } = await this.keys.rotate(req.tenant_id);
    const older = { tenant: req.tenant_id, version };
    const credentials = await this.ds
      .getRepository(CredentialEntity)
      .createQueryBuilder('c')
      .where('c.tenant_id = :tenant AND c.key_version < :version', older)
      .getCount();
    // The connections' OAuth client secrets move in the same job.
    const clients = await this.ds
      .getRepository(OAuthClientEntity)
      .createQueryBuilder('o')
      .where('o.tenant_id = :tenant AND o.key_version < :version', older)
      .getCount();
    const total = credentials + clients;
    const job = await this.insert({ kind: 'tenant', tenant_id: req.tenant_id, target_version: version, target_kek_id: null, total });
    this.logger.info({ key_rotation_id: job.id, tenant_id: req.tenant_id, target_version: version, total }, 'data-key rotation started');
    this.runner.kick();
    return { key_rotation: toKeyRotation(job) };
  }

  private async insert(what: Pick<KeyRotationEntity, 'kind' | 'tenant_id' | 'target_version' | 'target_kek_id' | 'total'>): Promise<KeyRotationEntity> {
    const now = nowIso();
    const job: KeyRotationEntity = {
      id: newId('rot'),
      ...what,
      status: 'RUNNING',
      done: 0,
      error: null,
      lease_owner: null,
      lease_until: null,
      created_at: now,
      updated_at: now,
      finished_at: null,
    };
    await this.repo().insert(job);
    return job;
  }

  private repo() {
    return this.ds.getRepository(KeyRotationEntity);
  }
}
