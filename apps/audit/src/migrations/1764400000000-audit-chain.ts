import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';

const str = (name: string, length: number, primary = false): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isPrimary: primary });
const seq = (name: string, primary = false): TableColumnOptions => ({ name, type: 'bigint', isPrimary: primary });

/**
 * The tamper-evident trail: append-only records hash-chained per tenant, each tenant's
 * chain head (and purge anchor), retention settings; payload digests on the merged view.
 */
export class AuditChain1764400000000 implements MigrationInterface {
  name = 'AuditChain1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'audit_records',
        columns: [
          str('tenant_id', 64, true),
          seq('seq', true),
          str('event_id', 128),
          str('execution_id', 64),
          str('occurred_at', 40),
          { name: 'record', type: 'text' },
          str('prev_hash', 64),
          str('hash', 64),
        ],
      }),
    );
    await q.createIndex('audit_records', new TableIndex({ name: 'audit_records_event', columnNames: ['event_id'], isUnique: true }));
    await q.createTable(
      new Table({
        name: 'audit_chains',
        columns: [str('tenant_id', 64, true), seq('last_seq'), str('last_hash', 64), seq('anchor_seq'), str('anchor_hash', 64), str('updated_at', 40)],
      }),
    );
    await q.createTable(
      new Table({
        name: 'audit_settings',
        columns: [str('tenant_id', 64, true), { name: 'retention_days', type: 'integer' }, str('updated_at', 40)],
      }),
    );
    await q.addColumns('tool_call_logs', [
      new TableColumn({ name: 'arguments_size', type: 'integer', isNullable: true }),
      new TableColumn({ name: 'arguments_sha256', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'result_size', type: 'integer', isNullable: true }),
      new TableColumn({ name: 'result_sha256', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'arguments', type: 'text', isNullable: true }),
      new TableColumn({ name: 'result', type: 'text', isNullable: true }),
    ]);
    // Security reviews list denials by reason.
    await q.createIndex('tool_call_logs', new TableIndex({ name: 'logs_tenant_error', columnNames: ['tenant_id', 'error_code', 'started_at'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('tool_call_logs', 'logs_tenant_error');
    for (const c of ['result', 'arguments', 'result_sha256', 'result_size', 'arguments_sha256', 'arguments_size']) await q.dropColumn('tool_call_logs', c);
    await q.dropTable('audit_settings');
    await q.dropTable('audit_chains');
    await q.dropTable('audit_records');
  }
}
