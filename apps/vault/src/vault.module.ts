import { Module, type DynamicModule } from '@nestjs/common';
import { DataSource, openDataSource } from '@vmcp/persistence';
import { coreModule, type Core } from '@vmcp/runtime';
import { CredentialEntity } from './credentials/credential.entity.js';
import { CredentialsController } from './credentials/credentials.controller.js';
import { CredentialsService } from './credentials/credentials.service.js';
import { KEK_PROVIDER, LocalKeyEncryptionKeyProvider } from './crypto/kek-provider.js';
import { DataKeysService } from './keys/data-keys.service.js';
import { TenantKeyEntity } from './keys/tenant-key.entity.js';
import { VaultInit1764000000000 } from './migrations/1764000000000-vault-init.js';
import { PingController } from './ping.controller.js';

export const VAULT_ENTITIES = [TenantKeyEntity, CredentialEntity];
export const VAULT_MIGRATIONS = [VaultInit1764000000000];

@Module({})
export class VaultModule {
  static async forRoot(core: Core): Promise<DynamicModule> {
    const ds = await openDataSource(core.config, { entities: VAULT_ENTITIES, migrations: VAULT_MIGRATIONS });
    return {
      module: VaultModule,
      imports: [coreModule(core)],
      controllers: [CredentialsController, PingController],
      providers: [
        { provide: DataSource, useValue: ds },
        { provide: KEK_PROVIDER, useValue: new LocalKeyEncryptionKeyProvider(core.config.masterKey) },
        DataKeysService,
        CredentialsService,
      ],
    };
  }
}
