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
import { BusGrantKeySource, CredentialGrantVerifier, GrantKeySource } from './grants/credential-grant.verifier.js';
import { DataKeysService } from './keys/data-keys.service.js';
import { KEK_PROVIDER, LocalKeyEncryptionKeyProvider } from './keys/key-encryption-key.provider.js';
import { TenantKeyEntity } from './keys/tenant-key.entity.js';
import { KeyRotationEntity } from './key-rotations/key-rotation.entity.js';
import { DEFAULT_KEY_ROTATION_SETTINGS, KEY_ROTATION_SETTINGS, KeyRotationRunner, type KeyRotationSettings } from './key-rotations/key-rotation.runner.js';
import { ReadRotationsController } from './key-rotations/read-rotations/read-rotations.controller.js';
import { ReadRotationsHandler } from './key-rotations/read-rotations/read-rotations.handler.js';
import { StartRotationController } from './key-rotations/start-rotation/start-rotation.controller.js';
import { StartRotationHandler } from './key-rotations/start-rotation/start-rotation.handler.js';
import { VaultInit1764000000000 } from './migrations/1764000000000-vault-init.js';
import { KeyRotations1765000000000 } from './migrations/1765000000000-key-rotations.js';
import { OAuth1766000000000 } from './migrations/1766000000000-oauth.js';
import { AuthorizationService } from './oauth/authorization.service.js';
import { OAuthClientsService } from './oauth/oauth-clients.service.js';
import { OAuthController } from './oauth/oauth.controller.js';
import { OAuthClientEntity, OAuthStateEntity } from './oauth/oauth.entities.js';
import { OAuthTokensService } from './oauth/oauth-tokens.service.js';
import { BusVaultEvents, VaultEvents } from './oauth/vault-events.js';
import { PingController } from './ping/ping.controller.js';
import { PingHandler } from './ping/ping.handler.js';

export const VAULT_ENTITIES = [TenantKeyEntity, CredentialEntity, KeyRotationEntity, OAuthClientEntity, OAuthStateEntity];
export const VAULT_MIGRATIONS = [VaultInit1764000000000, KeyRotations1765000000000, OAuth1766000000000];

@Module({})
export class VaultModule implements OnApplicationShutdown {
  constructor(private readonly ds: DataSource) {}

  // Nest closes the transport (letting in-flight requests finish) before this runs.
  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }

  static async forRoot(core: Core, options: { keyRotation?: Partial<KeyRotationSettings> } = {}): Promise<DynamicModule> {
    const ds = await openDataSource(core.config, { entities: VAULT_ENTITIES, migrations: VAULT_MIGRATIONS });
    return {
      module: VaultModule,
      imports: [coreModule(core)],
      controllers: [
        StoreCredentialController,
        ResolveCredentialController,
        DestroyCredentialController,
        PingController,
        StartRotationController,
        ReadRotationsController,
        OAuthController,
      ],
      providers: [
        { provide: DataSource, useValue: ds },
        // The one place that decides where the key-encryption key lives; a KMS provider goes here.
        // Retired master keys stay loaded for unwrapping until a master-key rotation completes.
        { provide: KEK_PROVIDER, useValue: new LocalKeyEncryptionKeyProvider(core.config.masterKey, core.config.previousMasterKeys) },
        DataKeysService,
        { provide: GrantKeySource, useClass: BusGrantKeySource },
        CredentialGrantVerifier,
        { provide: VaultEvents, useClass: BusVaultEvents },
        OAuthClientsService,
        OAuthTokensService,
        AuthorizationService,
        StoreCredentialHandler,
        ResolveCredentialHandler,
        DestroyCredentialHandler,
        PingHandler,
        { provide: KEY_ROTATION_SETTINGS, useValue: { ...DEFAULT_KEY_ROTATION_SETTINGS, ...options.keyRotation } },
        KeyRotationRunner,
        StartRotationHandler,
        ReadRotationsHandler,
      ],
    };
  }
}
