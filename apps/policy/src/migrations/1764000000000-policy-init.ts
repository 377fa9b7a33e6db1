import { Table, TableIndex, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';

const id = (name = 'id'): TableColumnOptions => ({ name, type: 'varchar', length: '64', isPrimary: true });
const str = (name: string, length = 64, nullable = false): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isNullable: nullable });
const ts = (name: string, nullable = false): TableColumnOptions => str(name, 40, nullable);
const text = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'text', isNullable: nullable });

export class PolicyInit1764000000000 implements MigrationInterface {
  name = 'PolicyInit1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(new Table({ name: 'tenants', columns: [id(), str('name'), ts('created_at')] }));
    await q.createIndex('tenants', new TableIndex({ name: 'tenants_name', columnNames: ['name'], isUnique: true }));

    await q.createTable(new Table({ name: 'api_keys', columns: [id(), str('tenant_id'), str('key_hash'), ts('created_at'), ts('revoked_at', true)] }));
    await q.createIndex('api_keys', new TableIndex({ name: 'api_keys_hash', columnNames: ['key_hash'], isUnique: true }));

    await q.createTable(
      new Table({
        name: 'connections',
        columns: [id(), str('tenant_id'), str('name'), str('connector'), str('auth_type', 32), text('settings'), ts('created_at'), ts('updated_at')],
      }),
    );
    await q.createIndex('connections', new TableIndex({ name: 'connections_tenant_name', columnNames: ['tenant_id', 'name'], isUnique: true }));

    await q.createTable(
      new Table({
        name: 'connected_accounts',
        columns: [id(), str('tenant_id'), str('connection_id'), str('identifier', 255), str('status', 32), ts('created_at'), ts('updated_at')],
      }),
    );
    await q.createIndex('connected_accounts', new TableIndex({ name: 'accounts_connection_identifier', columnNames: ['connection_id', 'identifier'], isUnique: true }));
    await q.createIndex('connected_accounts', new TableIndex({ name: 'accounts_tenant_identifier', columnNames: ['tenant_id', 'identifier'] }));

    await q.createTable(
      new Table({
        name: 'mcp_configs',
        columns: [id(), str('tenant_id'), str('name'), text('description', true), text('mappings'), ts('created_at'), ts('updated_at')],
      }),
    );
    await q.createIndex('mcp_configs', new TableIndex({ name: 'configs_tenant_name', columnNames: ['tenant_id', 'name'], isUnique: true }));

    await q.createTable(
      new Table({
        name: 'session_tokens',
        columns: [id(), str('tenant_id'), str('config_id'), str('identifier', 255), ts('expires_at'), ts('revoked_at', true), ts('created_at')],
      }),
    );
    await q.createIndex('session_tokens', new TableIndex({ name: 'tokens_tenant', columnNames: ['tenant_id'] }));

    await q.createTable(new Table({ name: 'signing_keys', columns: [id('kid'), text('private_jwk'), text('public_jwk'), ts('created_at')] }));
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['signing_keys', 'session_tokens', 'mcp_configs', 'connected_accounts', 'connections', 'api_keys', 'tenants']) {
      await q.dropTable(t);
    }
  }
}
