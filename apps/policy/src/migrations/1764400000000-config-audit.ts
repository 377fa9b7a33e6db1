import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A config's audit option: capture payloads (off unless the tenant turns it on). */
export class PolicyConfigAudit1764400000000 implements MigrationInterface {
  name = 'PolicyConfigAudit1764400000000';

  async up(q: QueryRunner): Promise<void> {
    // Plain ALTER on both databases (TypeORM's addColumn rebuilds the whole table on SQLite).
    await q.query('ALTER TABLE mcp_configs ADD COLUMN capture_payloads boolean NOT NULL DEFAULT false');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE mcp_configs DROP COLUMN capture_payloads');
  }
}
