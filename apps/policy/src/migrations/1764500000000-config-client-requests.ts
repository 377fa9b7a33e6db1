import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A config's client requests: whether an upstream may ask the agent for sampling, elicitation (both allowed, as before). */
export class PolicyConfigClientRequests1764500000000 implements MigrationInterface {
  name = 'PolicyConfigClientRequests1764500000000';

  async up(q: QueryRunner): Promise<void> {
    // Plain ALTER on both databases (TypeORM's addColumn rebuilds the whole table on SQLite).
    await q.query('ALTER TABLE mcp_configs ADD COLUMN allow_sampling boolean NOT NULL DEFAULT true');
    await q.query('ALTER TABLE mcp_configs ADD COLUMN allow_elicitation boolean NOT NULL DEFAULT true');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE mcp_configs DROP COLUMN allow_elicitation');
    await q.query('ALTER TABLE mcp_configs DROP COLUMN allow_sampling');
  }
}
