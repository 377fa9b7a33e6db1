import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { NatsContext } from '@nestjs/microservices';
import { loadConfig, type VmcpConfig } from '@vmcp/config';
import { vault } from '@vmcp/contracts';
import { openDataSource, type DataSource } from '@vmcp/persistence';
import { createLogger, type Logger } from '@vmcp/telemetry';
import { databaseEnv, type DatabaseKind, type TestDatabase } from '@vmcp/testing';
import { DestroyCredentialController } from '../src/credentials/destroy-credential/destroy-credential.controller.js';
import { DestroyCredentialHandler } from '../src/credentials/destroy-credential/destroy-credential.handler.js';
import { ResolveCredentialController } from '../src/credentials/resolve-credential/resolve-credential.controller.js';
import { ResolveCredentialHandler } from '../src/credentials/resolve-credential/resolve-credential.handler.js';
import { StoreCredentialController } from '../src/credentials/store-credential/store-credential.controller.js';
import { StoreCredentialHandler } from '../src/credentials/store-credential/store-credential.handler.js';
import { DataKeysService } from '../src/keys/data-keys.service.js';
import { LocalKeyEncryptionKeyProvider, type KeyEncryptionKeyProvider } from '../src/keys/key-encryption-key.provider.js';
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
}

export interface VaultFixture {
  readonly config: VmcpConfig;
  readonly ds: DataSource;
  /** Every line the vault logged, at trace level: to prove a secret never reaches a log. */
  readonly logs: string[];
  readonly logger: Logger;
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

export type VaultTable = 'credentials' | 'tenant_keys';
export type Row = Record<string, unknown>;

/** A fresh vault database of the given kind (migrated), with its own random master key. */
export async function openVaultFixture(kind: DatabaseKind): Promise<VaultFixture> {
  const db: TestDatabase = databaseEnv(kind);
  const config = loadConfig('vault', { ...db.env, NODE_ENV: 'test', VMCP_MASTER_KEY: randomBytes(32).toString('base64') });
  const ds = await openDataSource(config, { entities: VAULT_ENTITIES, migrations: VAULT_MIGRATIONS });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger('vault', 'trace', sink);
  return {
    config,
    ds,
    logs,
    logger,
    replica(kek = new LocalKeyEncryptionKeyProvider(config.masterKey)) {
      const keys = new DataKeysService(ds, kek);
      const store = new StoreCredentialController(new StoreCredentialHandler(ds, keys));
      const resolve = new ResolveCredentialController(new ResolveCredentialHandler(ds, keys, logger));
      const destroy = new DestroyCredentialController(new DestroyCredentialHandler(ds));
      return {
        keys,
        store: (body) => store.store(body, natsContext(vault.storeCredential.subject)),
        resolve: (body) => resolve.resolve(body, natsContext(vault.resolveCredential.subject)),
        destroy: (body) => destroy.destroy(body, natsContext(vault.destroyCredential.subject)),
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
