import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * OAuth connected accounts: clients and authorization states, and on credentials the
 * plain facts refresh needs (connection, expiry, who is refreshing, whether the provider
 * refused). None of these columns holds a secret.
 */
export class OAuth1766000000000 implements MigrationInterface {
  name = 'OAuth1766000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'oauth_clients',
        columns: [
          { name: 'connection_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'tenant_id', type: 'varchar', length: '64' },
          { name: 'client', type: 'text' },
          { name: 'key_version', type: 'integer', isNullable: true },
          { name: 'nonce', type: 'varchar', length: '32', isNullable: true },
          { name: 'ciphertext', type: 'text', isNullable: true },
          { name: 'created_at', type: 'varchar', length: '40' },
          { name: 'updated_at', type: 'varchar', length: '40' },
        ],
      }),
    );
    await q.createIndex('oauth_clients', new TableIndex({ name: 'oauth_clients_tenant', columnNames: ['tenant_id'] }));
    await q.createTable(
      new Table({
        name: 'oauth_states',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'tenant_id', type: 'varchar', length: '64' },
          { name: 'connection_id', type: 'varchar', length: '64' },
          { name: 'account_id', type: 'varchar', length: '64' },
          { name: 'redirect_url', type: 'text', isNullable: true },
          { name: 'key_version', type: 'integer' },
          { name: 'nonce', type: 'varchar', length: '32' },
          { name: 'ciphertext', type: 'text' },
          { name: 'expires_at', type: 'varchar', length: '40' },
          { name: 'used_at', type: 'varchar', length: '40', isNullable: true },
          { name: 'created_at', type: 'varchar', length: '40' },
        ],
      }),
    );
    await q.createIndex('oauth_states', new TableIndex({ name: 'oauth_states_expires', columnNames: ['expires_at'] }));
    await q.addColumns('credentials', [
      new TableColumn({ name: 'connection_id', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'expires_at', type: 'varchar', length: '40', isNullable: true }),
      new TableColumn({ name: 'refresh_lease_owner', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'refresh_lease_until', type: 'varchar', length: '40', isNullable: true }),
      new TableColumn({ name: 'refused_at', type: 'varchar', length: '40', isNullable: true }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const column of ['refused_at', 'refresh_lease_until', 'refresh_lease_owner', 'expires_at', 'connection_id']) {
      await q.dropColumn('credentials', column);
    }
    await q.dropTable('oauth_states');
    await q.dropTable('oauth_clients');
  }
}
