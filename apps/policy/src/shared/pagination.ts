import { decodeCursor, encodeCursor } from '@vmcp/persistence';
import { Brackets, type ObjectLiteral, type SelectQueryBuilder } from 'typeorm';

/** Applies cursor pagination to a query; returns one page and the next token. */
export async function paginate<T extends ObjectLiteral & { created_at: string; id: string }>(
  qb: SelectQueryBuilder<T>,
  alias: string,
  pageSize: number,
  pageToken: string | undefined,
): Promise<{ items: T[]; next_page_token?: string }> {
  if (pageToken) {
    const [createdAt, id] = decodeCursor(pageToken);
    qb.andWhere(
      new Brackets((w) =>
        w.where(`${alias}.created_at > :c`, { c: createdAt }).orWhere(`${alias}.created_at = :c AND ${alias}.id > :i`, { c: createdAt, i: id }),
      ),
    );
  }
  const rows = await qb.orderBy(`${alias}.created_at`, 'ASC').addOrderBy(`${alias}.id`, 'ASC').take(pageSize + 1).getMany();
  const items = rows.slice(0, pageSize);
  const last = items[items.length - 1];
  return rows.length > pageSize && last ? { items, next_page_token: encodeCursor(last.created_at, last.id) } : { items };
}

/** True when a database error is a unique-constraint violation (SQLite or Postgres). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed|duplicate key/i.test(e.message ?? '');
}
