import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type DataSourceOptions, type MixedList } from 'typeorm';
import type { VmcpConfig } from '@vmcp/config';

export interface DataSourceSpec {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly entities: MixedList<Function>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly migrations: MixedList<Function>;
}

/** Postgres identifiers we interpolate are validated by the config schema; quote them anyway. */
function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The service's own database: an SQLite file in the data dir by default, or its own
 * schema in PostgreSQL when DATABASE_URL is set. The schema comes from migrations only.
 */
export async function openDataSource(config: VmcpConfig, spec: DataSourceSpec): Promise<DataSource> {
  const db = config.database;
  let options: DataSourceOptions;
  if (db.kind === 'sqlite') {
    mkdirSync(dirname(db.file), { recursive: true });
    options = {
      type: 'better-sqlite3',
      database: db.file,
      entities: spec.entities,
      migrations: spec.migrations,
      synchronize: false,
      migrationsRun: false,
      prepareDatabase: (handle: { pragma(sql: string): unknown }) => {
        handle.pragma('journal_mode = WAL');
        handle.pragma('busy_timeout = 5000');
        handle.pragma('foreign_keys = ON');
      },
    };
  } else {
    options = {
      type: 'postgres',
      url: db.url,
      schema: db.schema,
      entities: spec.entities,
      migrations: spec.migrations,
      synchronize: false,
      migrationsRun: false,
      extra: { max: 10, options: `-c search_path=${quoteIdent(db.schema)}` },
    };
  }
  const ds = await new DataSource(options).initialize();
  if (db.kind === 'sqlite') serializeTransactions(ds);
  try {
    await migrate(ds, config);
  } catch (err) {
    await ds.destroy();
    throw err;
  }
  return ds;
}

/**
 * TypeORM talks to SQLite over one connection, where a second BEGIN while a transaction
 * is open fails (TransactionAlreadyStartedError). Concurrent requests therefore take
 * turns: each `ds.transaction` starts when the previous one has finished. A callback
 * must use the manager it is given, never `ds.transaction` again (that would wait forever).
 */
function serializeTransactions(ds: DataSource): void {
  const original = ds.transaction.bind(ds) as (...args: unknown[]) => Promise<unknown>;
  let tail: Promise<unknown> = Promise.resolve();
  ds.transaction = ((...args: unknown[]) => {
    const run = tail.then(() => original(...args));
    tail = run.catch(() => undefined);
    return run;
  }) as DataSource['transaction'];
}

async function migrate(ds: DataSource, config: VmcpConfig): Promise<void> {
  if (config.database.kind === 'sqlite') {
    await ds.runMigrations({ transaction: 'each' });
    return;
  }
  // Replicas starting together must not run the same migration twice: serialise on a lock.
  const schema = config.database.schema;
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [schema]);
    await runner.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [schema]).catch(() => undefined);
    await runner.release();
  }
}

/** Readiness probe of a data source: a trivial query that must succeed. */
export async function pingDataSource(ds: DataSource): Promise<boolean> {
  try {
    await ds.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

/** Now as the API's timestamp format (RFC 3339 UTC, milliseconds); sorts as text. */
export function nowIso(): string {
  return new Date().toISOString();
}
