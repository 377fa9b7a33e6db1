import { newId, policy, vault, type BusEvent } from '@vmcp/contracts';
import type { CacheScope } from '@vmcp/connectors';
import type { Bus } from '@vmcp/messaging';
import { describe, expect, it } from 'vitest';
import type { ConnectorRegistry } from '../connectors/connector-registry.service.js';
import { EvictOnChangeListener } from './evict-on-change.listener.js';

// Wiring only; the real bus path is covered in test/executor.bus.spec.ts.

describe('EvictOnChangeListener', () => {
  it('forgets an account, a connection or a tenant on the change events of policy and vault, until destroyed', () => {
    const handlers = new Map<string, (payload: never) => void>();
    let unsubscribed = 0;
    const bus = {
      subscribe: (event: BusEvent, handler: (payload: never) => void) => {
        handlers.set(event.subject, handler);
        return { unsubscribe: () => void unsubscribed++ };
      },
    } as unknown as Bus;
    const forgotten: CacheScope[] = [];
    const registry = { forget: (s: CacheScope) => void forgotten.push(s) } as unknown as ConnectorRegistry;
    const listener = new EvictOnChangeListener(bus, registry);
    listener.onModuleInit();

    const account = newId('ca');
    const connection = newId('conn');
    handlers.get(policy.accountChanged.subject)!({ tenant_id: newId('ten'), account_id: account, status: 'ACTIVE' } as never);
    handlers.get(policy.connectionChanged.subject)!({ tenant_id: newId('ten'), connection_id: connection } as never);
    const tenant = newId('ten');
    handlers.get(vault.credentialChanged.subject)!({ tenant_id: tenant, account_id: account, reason: 'refreshed' } as never);
    handlers.get(vault.credentialChanged.subject)!({ tenant_id: tenant, account_id: null, reason: 'rotated' } as never);
    expect(forgotten).toEqual([{ accountId: account }, { connectionId: connection }, { accountId: account }, { tenantId: tenant }]);

    listener.onModuleDestroy();
    expect(unsubscribed).toBe(3);
  });
});
