import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { uniqueName } from './ports.js';

/** The PostgreSQL every project machine runs (trust auth, database `test`). */
export const TEST_DATABASE_URL = process.env.VMCP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type DatabaseKind = 'sqlite' | 'postgres';
export const DATABASE_KINDS: readonly DatabaseKind[] = ['sqlite', 'postgres'];

/**
 * Environment for a fresh, isolated database of either kind: a new SQLite data dir, or
 * a new schema prefix in the shared PostgreSQL (dropped by `dropTestSchemas`).
 */
export interface TestDatabase {
  readonly env: Record<string, string>;
  readonly dataDir: string;
  readonly schemaPrefix: string;
  /** Removes what the test created: its schemas and its data dir. */
  drop(): Promise<void>;
}

export function databaseEnv(kind: DatabaseKind): TestDatabase {
  const dataDir = mkdtempSync(join(tmpdir(), 'vmcp-data-'));
  const schemaPrefix = uniqueName('vt_');
  const env: Record<string, string> = { VMCP_DATA_DIR: dataDir, VMCP_DB_SCHEMA_PREFIX: schemaPrefix };
  if (kind === 'postgres') env.DATABASE_URL = TEST_DATABASE_URL;
  return {
    env,
    dataDir,
    schemaPrefix,
    async drop() {
      if (kind === 'postgres') await dropTestSchemas(schemaPrefix);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Drops every schema a test created under its prefix. */
export async function dropTestSchemas(schemaPrefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>(
      'SELECT nspname FROM pg_namespace WHERE nspname LIKE $1',
      [`${schemaPrefix}\\_%`],
    );
    for (const { nspname } of rows) await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
  } finally {
    await client.end();
  }
}
