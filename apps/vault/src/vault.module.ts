import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource, openDataSource } from '@vmcp/persistence';
import { coreModule, type Core } from '@vmcp/runtime';
import { CredentialEntity } from './credentials/credential.entity.js';
import { DestroyCredentialController } from './credentials/destroy-credential/destroy-credential.controller.js';
import { DestroyCredentialHandler } from './credentials/destroy-credential/destroy-credential.handler.js';
import { ResolveCredentialController } from './credentials/resolve-credential/resolve-credential.controller.js';
import { ResolveCredentialHandler } from './credentials/resolve-credential/resolve-credential.handler.js';
import { StoreCredentialController } from './credentials/store-credential/store-credential.controller.js';
import { StoreCredentialHandler } from './credentials/store-credential/store-credential.handler.js';
import { DataKeysService } from './keys/data-keys.service.js';
import { KEK_PROVIDER, LocalKeyEncryptionKeyProvider } from './keys/key-encryption-key.provider.js';
import { TenantKeyEntity } from './keys/tenant-key.entity.js';
import { VaultInit1764000000000 } from './migrations/1764000000000-vault-init.js';
import { PingController } from './ping/ping.controller.js';
import { PingHandler } from './ping/ping.handler.js';

export const VAULT_ENTITIES = [TenantKeyEntity, CredentialEntity];
export const VAULT_MIGRATIONS = [VaultInit1764000000000];

@Module({})
export class VaultModule implements OnApplicationShutdown {
  constructor(private readonly ds: DataSource) {}

  // Nest closes the transport (letting in-flight requests finish) before this runs.
  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }

  static async forRoot(core: Core): Promise<DynamicModule> {
    const ds = await openDataSource(core.config, { entities: VAULT_ENTITIES, migrations: VAULT_MIGRATIONS });
    return {
      module: VaultModule,
      imports: [coreModule(core)],
      controllers: [StoreCredentialController, ResolveCredentialController, DestroyCredentialController, PingController],
      providers: [
        { provide: DataSource, useValue: ds },
        // The one place that decides where the key-encryption key lives; a KMS provider goes here.
        { provide: KEK_PROVIDER, useValue: new LocalKeyEncryptionKeyProvider(core.config.masterKey) },
        DataKeysService,
        StoreCredentialHandler,
        ResolveCredentialHandler,
        DestroyCredentialHandler,
        PingHandler,
      ],
    };
  }
}
