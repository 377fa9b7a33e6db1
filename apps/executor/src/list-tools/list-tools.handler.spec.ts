import type { VmcpConfig } from '@vmcp/config';
import { newId, VmcpError, type ConnectionTarget, type ToolDefinition } from '@vmcp/contracts';
import type { Connector, ConnectorContext, ListToolsOptions } from '@vmcp/connectors';
import { createLogger } from '@vmcp/telemetry';
import { describe, expect, it } from 'vitest';
import type { ConnectorRegistry } from '../connectors/connector-registry.service.js';
import { listBudgetMs, ListToolsHandler } from './list-tools.handler.js';

const connection: ConnectionTarget = { id: newId('conn'), name: 'crm', connector: 'mcp', auth_type: 'none', settings: { url: 'http://127.0.0.1:1/mcp' } };
const tools: ToolDefinition[] = [{ name: 'lookup', inputSchema: { type: 'object' } }];
const logger = createLogger('executor', 'silent');
/** The handler passes the grant on to the connector; it is the vault that checks it. */
const GRANT = 'grant-for-this-test-only';

describe('ListToolsHandler', () => {
  it('asks the connection\'s connector for the account\'s tools, within the bus timeout', async () => {
    const seen: Array<[ConnectorContext, ListToolsOptions | undefined]> = [];
    const connector = { listTools: async (ctx: ConnectorContext, options?: ListToolsOptions) => (seen.push([ctx, options]), tools) } as Partial<Connector>;
    const registry = { for: (c: ConnectionTarget) => (c.connector === 'mcp' ? connector : undefined) } as unknown as ConnectorRegistry;
    const handler = new ListToolsHandler(registry, { busTimeoutMs: 5000 } as VmcpConfig, logger);
    const tenant = newId('ten');
    await expect(handler.handle({ tenant_id: tenant, connection, account_id: null, grant: GRANT })).resolves.toEqual({ tools });
    expect(seen).toEqual([[{ tenantId: tenant, connection, accountId: null, grant: GRANT }, { timeoutMs: 4750 }]]);
  });

  it('passes a connector failure on as it is', async () => {
    const registry = { for: () => ({ listTools: () => Promise.reject(new VmcpError('UNAVAILABLE', 'upstream of connection "crm" is unavailable')) }) } as unknown as ConnectorRegistry;
    const handler = new ListToolsHandler(registry, { busTimeoutMs: 5000 } as VmcpConfig, logger);
    await expect(handler.handle({ tenant_id: newId('ten'), connection, account_id: newId('ca'), grant: GRANT })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('leaves room for the reply within the caller\'s timeout, but never less than 100 ms', () => {
    expect(listBudgetMs(5000)).toBe(4750);
    expect(listBudgetMs(50)).toBe(100);
  });
});
