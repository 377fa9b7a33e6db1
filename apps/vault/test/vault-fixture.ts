import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { NatsContext } from '@nestjs/microservices';
import { loadConfig, type VmcpConfig } from '@vmcp/config';
import { vault } from '@vmcp/contracts';
import { openDataSource, type DataSource } from '@vmcp/persistence';
import { createLogger, type Logger } from '@vmcp/telemetry';
import { createGrantSigner, databaseEnv, type DatabaseKind, type GrantSigner, type TestDatabase } from '@vmcp/testing';
import { CredentialGrantVerifier, type GrantKeySource } from '../src/grants/credential-grant.verifier.js';
import { DestroyCredentialController } from '../src/credentials/destroy-credential/destroy-credential.controller.js';
import { DestroyCredentialHandler } from '../src/credentials/destroy-credential/destroy-credential.handler.js';
import { ResolveCredentialController } from '../src/credentials/resolve-credential/resolve-credential.controller.js';
import { ResolveCredentialHandler } from '../src/credentials/resolve-credential/resolve-credential.handler.js';
import { StoreCredentialController } from '../src/credentials/store-credential/store-credential.controller.js';
import { StoreCredentialHandler } from '../src/credentials/store-credential/store-credential.handler.js';
import { DataKeysService } from '../src/keys/data-keys.service.js';
import { LocalKeyEncryptionKeyProvider, type KeyEncryptionKeyProvider } from '../src/keys/key-encryption-key.provider.js';
import { AuthorizationService } from '../src/oauth/authorization.service.js';
import { OAuthClientsService } from '../src/oauth/oauth-clients.service.js';
import { OAuthController } from '../src/oauth/oauth.controller.js';
import { OAuthTokensService } from '../src/oauth/oauth-tokens.service.js';
import { type VaultEvents } from '../src/oauth/vault-events.js';
import { VAULT_ENTITIES, VAULT_MIGRATIONS } from '../src/vault.module.js';

/**
 * The vault's message controllers over one data source, wired as VaultModule wires them.
 * Each call takes a raw body and returns what the bus would carry back: the validated
 * reply or `{error: {code, message}}`.
 */
export interface VaultControllers {
  readonly keys: DataKeysService;
  store(body: unknown): ReturnType<StoreCredentialController['store']>;
  resolve(body: unknown): ReturnType<ResolveCredentialController['resolve']>;
  destroy(body: unknown): ReturnType<DestroyCredentialController['destroy']>;
  /** The OAuth subjects, as the bus would answer them. */
  readonly oauth: {
    storeClient(body: unknown): ReturnType<OAuthController['storeClient']>;
    destroyClient(body: unknown): ReturnType<OAuthController['destroyClient']>;
    createLink(body: unknown): ReturnType<OAuthController['createLink']>;
    openLink(body: unknown): ReturnType<OAuthController['openLink']>;
    complete(body: unknown): ReturnType<OAuthController['complete']>;
  };
}

export interface VaultFixture {
  readonly config: VmcpConfig;
  readonly ds: DataSource;
  /** Every line the vault logged, at trace level: to prove a secret never reaches a log. */
  readonly logs: string[];
  readonly logger: Logger;
  /** Signs credential grants the fixture's replicas accept, as policy would. */
  readonly grants: GrantSigner;
  /** accountExpired events the replicas published, in order. */
  readonly expired: Array<{ tenant_id: string; account_id: string; reason: string }>;
  /** A vault replica as a fresh process has it (empty key cache), with this or another key-encryption key. */
  replica(kek?: KeyEncryptionKeyProvider): VaultControllers;
  /**
   * Raw table access around the entities (what someone with database access could do),
   * with placeholders that work on SQLite and PostgreSQL alike.
   */
  rows(table: VaultTable, where?: Row): Promise<Row[]>;
  insertRow(table: VaultTable, values: Row): Promise<void>;
  updateRows(table: VaultTable, set: Row, where: Row): Promise<void>;
  close(): Promise<void>;
}

export type VaultTable = 'credentials' | 'tenant_keys' | 'key_rotations' | 'oauth_clients' | 'oauth_states';
export type Row = Record<string, unknown>;

/** A fresh vault database of the given kind (migrated), with its own random master key. */
export async function openVaultFixture(kind: DatabaseKind, env: Record<string, string> = {}): Promise<VaultFixture> {
  const db: TestDatabase = databaseEnv(kind);
  const config = loadConfig('vault', { ...db.env, NODE_ENV: 'test', VMCP_MASTER_KEY: randomBytes(32).toString('base64'), ...env });
  const ds = await openDataSource(config, { entities: VAULT_ENTITIES, migrations: VAULT_MIGRATIONS });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger('vault', 'trace', sink);
  const grants = await createGrantSigner();
  const expired: VaultFixture['expired'] = [];
  const events: VaultEvents = { accountExpired: (e) => expired.push(e), credentialChanged: () => undefined };
  const keySource: GrantKeySource = { fetch: async () => grants.keys };
  // A resolve request without a grant gets a valid one, so tests about storage read as
  // before; tests about grants pass their own.
  const withGrant = async (body: unknown) => {
    if (typeof body !== 'object' || body === null || 'grant' in body) return body;
    const { tenant_id, account_id } = body as { tenant_id?: unknown; account_id?: unknown };
    if (typeof tenant_id !== 'string' || typeof account_id !== 'string') return body;
    return { ...body, grant: await grants.sign(tenant_id, account_id) };
  };
  return {
    config,
    ds,
    logs,
    logger,
    grants,
    expired,
    replica(kek = new LocalKeyEncryptionKeyProvider(config.masterKey)) {
      const keys = new DataKeysService(ds, kek);
      const store = new StoreCredentialController(new StoreCredentialHandler(ds, keys));
      const clients = new OAuthClientsService(ds, keys);
      const tokens = new OAuthTokensService(config, ds, keys, clients, events, logger);
      const oauth = new OAuthController(clients, new AuthorizationService(config, ds, keys, clients, tokens, logger));
      const resolve = new ResolveCredentialController(new ResolveCredentialHandler(ds, keys, new CredentialGrantVerifier(keySource), tokens, logger));
      const destroy = new DestroyCredentialController(new DestroyCredentialHandler(ds, tokens));
      return {
        keys,
        store: (body) => store.store(body, natsContext(vault.storeCredential.subject)),
        resolve: async (body) => resolve.resolve(await withGrant(body), natsContext(vault.resolveCredential.subject)),
        destroy: (body) => destroy.destroy(body, natsContext(vault.destroyCredential.subject)),
        oauth: {
          storeClient: (body) => oauth.storeClient(body, natsContext(vault.storeOAuthClient.subject)),
          destroyClient: (body) => oauth.destroyClient(body, natsContext(vault.destroyOAuthClient.subject)),
          createLink: (body) => oauth.createLink(body, natsContext(vault.createAuthorizationLink.subject)),
          openLink: (body) => oauth.openLink(body, natsContext(vault.openAuthorizationLink.subject)),
          complete: (body) => oauth.complete(body, natsContext(vault.completeAuthorization.subject)),
        },
      };
    },
    async rows(table, where = {}) {
      const q = ds.createQueryBuilder().select('*').from(table, 't');
      Object.entries(where).forEach(([column, value], i) => q.andWhere(`t.${column} = :w${i}`, { [`w${i}`]: value }));
      return q.getRawMany<Row>();
    },
    async insertRow(table, values) {
      await ds.createQueryBuilder().insert().into(table).values(values).execute();
    },
    async updateRows(table, set, where) {
      const q = ds.createQueryBuilder().update(table).set(set);
      Object.entries(where).forEach(([column, value], i) => q.andWhere(`${column} = :w${i}`, { [`w${i}`]: value }));
      await q.execute();
    },
    async close() {
      if (ds.isInitialized) await ds.destroy();
      await db.drop();
    },
  };
}

/** The context Nest hands a message controller, for a request without trace headers. */
export function natsContext(subject: string): NatsContext {
  return new NatsContext([subject, undefined]);
}
