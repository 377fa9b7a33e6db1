import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The vault's tables. Binary values (nonces, ciphertexts, wrapped keys) are base64 text,
 * so one schema works unchanged on SQLite and PostgreSQL.
 */
export class VaultInit1764000000000 implements MigrationInterface {
  name = 'VaultInit1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'tenant_keys',
        columns: [
          { name: 'tenant_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'version', type: 'integer', isPrimary: true },
          { name: 'kek_id', type: 'varchar', length: '255' },
          { name: 'wrapped_key', type: 'text' },
          { name: 'created_at', type: 'varchar', length: '40' },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'credentials',
        columns: [
          { name: 'account_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'tenant_id', type: 'varchar', length: '64' },
          { name: 'auth_type', type: 'varchar', length: '32' },
          { name: 'key_version', type: 'integer' },
          { name: 'nonce', type: 'varchar', length: '32' },
          { name: 'ciphertext', type: 'text' },
          { name: 'created_at', type: 'varchar', length: '40' },
          { name: 'updated_at', type: 'varchar', length: '40' },
        ],
      }),
    );
    await q.createIndex('credentials', new TableIndex({ name: 'credentials_tenant', columnNames: ['tenant_id'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('credentials');
    await q.dropTable('tenant_keys');
  }
}
