import { Injectable } from '@nestjs/common';
import type { RpcReply, RpcRequestParsed, vault } from '@vmcp/contracts';
import { DataSource } from '@vmcp/persistence';
import { CredentialEntity } from '../credential.entity.js';

type Request = RpcRequestParsed<typeof vault.destroyCredential>;
type Reply = RpcReply<typeof vault.destroyCredential>;

/** Deletes the sealed credential; idempotent, so a retried disconnect is harmless. */
@Injectable()
export class DestroyCredentialHandler {
  constructor(private readonly ds: DataSource) {}

  async execute(req: Request): Promise<Reply> {
    const result = await this.ds.getRepository(CredentialEntity).delete({ account_id: req.account_id, tenant_id: req.tenant_id });
    return { destroyed: (result.affected ?? 0) > 0 };
  }
}
