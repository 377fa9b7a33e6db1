import { Injectable } from '@nestjs/common';
import { vault, VmcpError, type RpcReply, type RpcRequestParsed } from '@vmcp/contracts';
import { DataSource, nowIso } from '@vmcp/persistence';
import type { z } from 'zod';
import { fromColumns, toColumns } from '../crypto/aes-gcm.crypto.js';
import { DataKeysService } from '../keys/data-keys.service.js';
import { clientSecretAad, openText, sealText } from './oauth.crypto.js';
import { OAuthClientEntity } from './oauth.entities.js';

type OAuthClient = z.infer<typeof vault.OAuthClient>;

export interface LoadedClient {
  readonly client: OAuthClient;
  readonly secret: string | undefined;
}

/** Connections' OAuth clients: settings in the clear, the secret sealed under the tenant's data key. */
@Injectable()
export class OAuthClientsService {
  constructor(
    private readonly ds: DataSource,
    private readonly keys: DataKeysService,
  ) {}

  async store(req: RpcRequestParsed<typeof vault.storeOAuthClient>): Promise<RpcReply<typeof vault.storeOAuthClient>> {
    const repo = this.ds.getRepository(OAuthClientEntity);
    const existing = await repo.findOneBy({ connection_id: req.connection_id });
    // Same answer as for an unknown connection: one tenant learns nothing about another's ids.
    if (existing && existing.tenant_id !== req.tenant_id) throw new VmcpError('NOT_FOUND', `connection ${req.connection_id} not found`);
    const now = nowIso();
    let secret: Pick<OAuthClientEntity, 'key_version' | 'nonce' | 'ciphertext'> = {
      key_version: existing?.key_version ?? null,
      nonce: existing?.nonce ?? null,
      ciphertext: existing?.ciphertext ?? null,
    };
    if (req.client_secret !== undefined) {
      const { version, key } = await this.keys.current(req.tenant_id);
      secret = { key_version: version, ...toColumns(sealText(key, clientSecretAad(req.tenant_id, req.connection_id, version), req.client_secret)) };
    }
    const row: OAuthClientEntity = {
      connection_id: req.connection_id,
      tenant_id: req.tenant_id,
      client: JSON.stringify(req.client),
      ...secret,
      created_at: existing?.created_at ?? now,
      updated_at: now,
    };
    await repo.save(row);
    return { stored: true, client_secret_set: row.ciphertext !== null };
  }

  async destroy(tenantId: string, connectionId: string): Promise<boolean> {
    const result = await this.ds.getRepository(OAuthClientEntity).delete({ connection_id: connectionId, tenant_id: tenantId });
    return (result.affected ?? 0) > 0;
  }

  /** The client a flow or a refresh uses, secret opened; FAILED_PRECONDITION when the connection has none. */
  async load(tenantId: string, connectionId: string): Promise<LoadedClient> {
    const row = await this.ds.getRepository(OAuthClientEntity).findOneBy({ connection_id: connectionId, tenant_id: tenantId });
    if (!row) throw new VmcpError('FAILED_PRECONDITION', `connection ${connectionId} has no OAuth client configured`);
    const client = vault.OAuthClient.parse(JSON.parse(row.client));
    if (row.key_version === null || row.nonce === null || row.ciphertext === null) return { client, secret: undefined };
    const unreadable = () => new VmcpError('FAILED_PRECONDITION', `the OAuth client secret of connection ${connectionId} cannot be decrypted`);
    const key = await this.keys.find(tenantId, row.key_version);
    if (!key) throw unreadable();
    const secret = openText(key, clientSecretAad(tenantId, connectionId, row.key_version), fromColumns({ nonce: row.nonce, ciphertext: row.ciphertext }), unreadable);
    return { client, secret };
  }
}
