import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export class AuditInit1764000000000 implements MigrationInterface {
  name = 'AuditInit1764000000000';

  async up(q: QueryRunner): Promise<void> {
    const v = (name: string, length: number, nullable = true) => ({ name, type: 'varchar', length: String(length), isNullable: nullable });
    await q.createTable(
      new Table({
        name: 'tool_call_logs',
        columns: [
          { name: 'execution_id', type: 'varchar', length: '64', isPrimary: true },
          v('tenant_id', 64, false),
          v('config_id', 64),
          v('connection_name', 64),
          v('connector', 64),
          v('connected_account_id', 64),
          v('identifier', 255, false),
          v('tool_name', 256, false),
          v('source', 8, false),
          v('agent_run_id', 255),
          v('status', 16, false),
          v('error_code', 64),
          { name: 'error_message', type: 'text', isNullable: true },
          { name: 'duration_ms', type: 'integer', isNullable: true },
          v('started_at', 40, false),
          v('finished_at', 40),
        ],
      }),
    );
    await q.createIndex('tool_call_logs', new TableIndex({ name: 'logs_tenant_started', columnNames: ['tenant_id', 'started_at'] }));
    await q.createIndex('tool_call_logs', new TableIndex({ name: 'logs_tenant_identifier', columnNames: ['tenant_id', 'identifier'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('tool_call_logs');
  }
}
