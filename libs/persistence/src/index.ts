export { openDataSource, pingDataSource, nowIso } from './data-source.js';
export { encodeCursor, decodeCursor } from './cursor.js';
export { bulkInsert } from './bulk-insert.js';
export type { BulkInsertOptions } from './bulk-insert.js';
export type { DataSourceSpec } from './data-source.js';
export { DataSource, type EntityManager, type Repository } from 'typeorm';
