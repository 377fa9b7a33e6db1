import { Injectable } from '@nestjs/common';
import { VmcpError, type RpcReply, type RpcRequestParsed, type vaultKeys } from '@vmcp/contracts';
import { DataSource, decodeCursor, encodeCursor } from '@vmcp/persistence';
import { Brackets } from 'typeorm';
import { KeyRotationEntity, toKeyRotation } from '../key-rotation.entity.js';
import { KeyRotationRunner } from '../key-rotation.runner.js';

type GetRequest = RpcRequestParsed<typeof vaultKeys.getRotation>;
type ListRequest = RpcRequestParsed<typeof vaultKeys.listRotations>;

/** Rotation jobs and their progress. */
@Injectable()
export class ReadRotationsHandler {
  constructor(
    private readonly ds: DataSource,
    private readonly runner: KeyRotationRunner,
  ) {}

  async get(req: GetRequest): Promise<RpcReply<typeof vaultKeys.getRotation>> {
    const row = await this.repo().findOneBy({ id: req.id });
    // Another tenant's job, or a master job, answers like an unknown id.
    if (!row || (req.tenant_id !== undefined && row.tenant_id !== req.tenant_id)) {
      throw new VmcpError('NOT_FOUND', `key rotation ${req.id} not found`);
    }
    // Someone is watching a job: if its replica died, it is taken over now rather than later.
    if (row.status === 'RUNNING') this.runner.kick();
    return { key_rotation: toKeyRotation(row) };
  }

  async list(req: ListRequest): Promise<RpcReply<typeof vaultKeys.listRotations>> {
    const qb = this.repo().createQueryBuilder('r');
    if (req.scope) qb.andWhere('r.kind = :scope', { scope: req.scope });
    if (req.tenant_id) qb.andWhere('r.tenant_id = :tenant', { tenant: req.tenant_id });
    if (req.status) qb.andWhere('r.status = :status', { status: req.status });
    if (req.page_token) {
      const [createdAt, id] = decodeCursor(req.page_token);
      qb.andWhere(
        new Brackets((w) => w.where('r.created_at < :pc', { pc: createdAt }).orWhere('r.created_at = :pc AND r.id < :pi', { pc: createdAt, pi: id })),
      );
    }
    const rows = await qb.orderBy('r.created_at', 'DESC').addOrderBy('r.id', 'DESC').take(req.page_size + 1).getMany();
    const page = rows.slice(0, req.page_size);
    const last = page[page.length - 1];
    return {
      key_rotations: page.map(toKeyRotation),
      ...(rows.length > req.page_size && last ? { next_page_token: encodeCursor(last.created_at, last.id) } : {}),
    };
  }

  private repo() {
    return this.ds.getRepository(KeyRotationEntity);
  }
}
