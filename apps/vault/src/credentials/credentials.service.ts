import { Injectable } from '@nestjs/common';
import { StaticAuth, VmcpError, type AuthType } from '@vmcp/contracts';
import { DataSource, nowIso } from '@vmcp/persistence';
import { credentialAad, DecryptError, open, seal } from '../crypto/envelope.js';
import { DataKeysService } from '../keys/data-keys.service.js';
import { CredentialEntity } from './credential.entity.js';

/** Encrypts, stores, decrypts and destroys credentials. Plaintext never leaves this class but in a resolve reply. */
@Injectable()
export class CredentialsService {
  constructor(
    private readonly ds: DataSource,
    private readonly keys: DataKeysService,
  ) {}

  async store(tenantId: string, accountId: string, authType: AuthType, secret: StaticAuth): Promise<number> {
    const { version, key } = await this.keys.current(tenantId);
    const sealed = seal(key, Buffer.from(JSON.stringify(secret), 'utf8'), credentialAad(tenantId, accountId, version));
    const repo = this.ds.getRepository(CredentialEntity);
    const now = nowIso();
    const existing = await repo.findOneBy({ account_id: accountId });
    if (existing && existing.tenant_id !== tenantId) {
      // Account ids are global; one owned by another tenant is not this tenant's to overwrite.
      throw new VmcpError('NOT_FOUND', `connected account ${accountId} not found`);
    }
    await repo.save({
      account_id: accountId,
      tenant_id: tenantId,
      auth_type: authType,
      key_version: version,
      nonce: sealed.nonce.toString('base64'),
      ciphertext: sealed.ciphertext.toString('base64'),
      created_at: existing?.created_at ?? now,
      updated_at: now,
    });
    return version;
  }

  async resolve(tenantId: string, accountId: string): Promise<{ auth_type: AuthType; secret: StaticAuth }> {
    const row = await this.ds.getRepository(CredentialEntity).findOneBy({ account_id: accountId, tenant_id: tenantId });
    if (!row) throw new VmcpError('NOT_FOUND', `no credential stored for connected account ${accountId}`);
    const unreadable = () =>
      new VmcpError(
        'FAILED_PRECONDITION',
        `credential for connected account ${accountId} cannot be decrypted (wrong tenant, account or key version, or tampered data)`,
      );
    const key = await this.keys.version(tenantId, row.key_version).catch(() => undefined);
    if (!key) throw unreadable();
    let plaintext: Buffer;
    try {
      plaintext = open(
        key,
        { nonce: Buffer.from(row.nonce, 'base64'), ciphertext: Buffer.from(row.ciphertext, 'base64') },
        credentialAad(tenantId, accountId, row.key_version),
      );
    } catch (err) {
      if (err instanceof DecryptError) throw unreadable();
      throw err;
    }
    const secret = StaticAuth.safeParse(JSON.parse(plaintext.toString('utf8')));
    plaintext.fill(0);
    if (!secret.success) throw unreadable();
    return { auth_type: row.auth_type as AuthType, secret: secret.data };
  }

  async destroy(tenantId: string, accountId: string): Promise<boolean> {
    const result = await this.ds.getRepository(CredentialEntity).delete({ account_id: accountId, tenant_id: tenantId });
    return (result.affected ?? 0) > 0;
  }
}
