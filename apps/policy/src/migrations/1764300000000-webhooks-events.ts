import { Table, TableIndex, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';

const str = (name: string, length = 64, primary = false): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isPrimary: primary });
const ts = (name: string): TableColumnOptions => str(name, 40);
const text = (name: string): TableColumnOptions => ({ name, type: 'text' });

/** The tenant's webhook, and the outbox of events committed with the change they describe. */
export class PolicyWebhooksEvents1764300000000 implements MigrationInterface {
  name = 'PolicyWebhooksEvents1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'webhooks',
        columns: [str('tenant_id', 64, true), str('url', 2048), text('events'), str('signing_secret', 128), ts('created_at'), ts('updated_at')],
      }),
    );
    await q.createTable(new Table({ name: 'event_outbox', columns: [str('id', 64, true), str('tenant_id'), text('payload'), ts('created_at')] }));
    await q.createIndex('event_outbox', new TableIndex({ name: 'event_outbox_created', columnNames: ['created_at', 'id'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('event_outbox');
    await q.dropTable('webhooks');
  }
}
