import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Key-rotation jobs (master-key re-wrap, tenant data-key re-encryption) and their leases. */
export class KeyRotations1765000000000 implements MigrationInterface {
  name = 'KeyRotations1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'key_rotations',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'kind', type: 'varchar', length: '16' },
          { name: 'tenant_id', type: 'varchar', length: '64', isNullable: true },
          { name: 'target_version', type: 'integer', isNullable: true },
          { name: 'target_kek_id', type: 'varchar', length: '255', isNullable: true },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'total', type: 'integer' },
          { name: 'done', type: 'integer' },
          { name: 'error', type: 'text', isNullable: true },
          { name: 'lease_owner', type: 'varchar', length: '128', isNullable: true },
          { name: 'lease_until', type: 'varchar', length: '40', isNullable: true },
          { name: 'created_at', type: 'varchar', length: '40' },
          { name: 'updated_at', type: 'varchar', length: '40' },
          { name: 'finished_at', type: 'varchar', length: '40', isNullable: true },
        ],
      }),
    );
    await q.createIndex('key_rotations', new TableIndex({ name: 'key_rotations_status', columnNames: ['status'] }));
    await q.createIndex('key_rotations', new TableIndex({ name: 'key_rotations_tenant', columnNames: ['tenant_id'] }));
    // The master-key job looks for data keys not yet wrapped by the target key.
    await q.createIndex('tenant_keys', new TableIndex({ name: 'tenant_keys_kek', columnNames: ['kek_id'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('tenant_keys', 'tenant_keys_kek');
    await q.dropTable('key_rotations');
  }
}
