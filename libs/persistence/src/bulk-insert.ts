import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

export interface BulkInsertOptions {
  /** Rows per statement (keep rows × columns under the drivers' parameter limits). */
  readonly chunk?: number;
  /** `INSERT … ON CONFLICT (target) DO UPDATE SET col = excluded.col` for these columns. */
  readonly upsert?: { readonly conflict: readonly string[]; readonly update: readonly string[] };
}

/**
 * Inserts many rows with one parameterised statement per chunk, on PostgreSQL and SQLite
 * alike. TypeORM's insert builder spends more time assembling parameters than the
 * database spends storing the rows once batches reach hundreds of rows; this writes the
 * SQL directly from the entity's metadata (table, schema, column names).
 */
export async function bulkInsert<T extends ObjectLiteral>(m: EntityManager, entity: EntityTarget<T>, rows: readonly T[], options: BulkInsertOptions = {}): Promise<void> {
  if (!rows.length) return;
  const meta = m.connection.getMetadata(entity);
  const driver = m.connection.driver;
  const postgres = m.connection.options.type === 'postgres';
  const table = meta.schema ? `${driver.escape(meta.schema)}.${driver.escape(meta.tableName)}` : driver.escape(meta.tableName);
  const columns = meta.columns.map((c) => c.databaseName);
  const properties = meta.columns.map((c) => c.propertyName);
  const chunk = options.chunk ?? 500;
  let conflict = '';
  if (options.upsert) {
    const set = options.upsert.update.map((c) => `${driver.escape(c)} = excluded.${driver.escape(c)}`).join(', ');
    conflict = ` ON CONFLICT (${options.upsert.conflict.map((c) => driver.escape(c)).join(', ')}) DO UPDATE SET ${set}`;
  }
  const head = `INSERT INTO ${table} (${columns.map((c) => driver.escape(c)).join(', ')}) VALUES `;
  for (let start = 0; start < rows.length; start += chunk) {
    const slice = rows.slice(start, start + chunk);
    const params: unknown[] = [];
    const tuples = slice.map((row) => {
      const marks = properties.map((p) => {
        params.push(row[p] ?? null);
        return postgres ? `$${params.length}` : '?';
      });
      return `(${marks.join(', ')})`;
    });
    await m.query(head + tuples.join(', ') + conflict, params);
  }
}
