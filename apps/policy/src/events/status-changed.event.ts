import { newId, type AccountStatus, type events } from '@vmcp/contracts';

export interface StatusChange {
  readonly tenantId: string;
  readonly accountId: string;
  readonly connectionName: string;
  readonly identifier: string;
  readonly previous: AccountStatus;
  readonly status: AccountStatus;
  readonly occurredAt: string;
}

/** The public event of a status change: ids, names and statuses, never a credential. */
export function statusChangedEvent(c: StatusChange): events.ConnectedAccountStatusChanged {
  return {
    event_id: newId('evt'),
    type: 'connected_account.status_changed',
    tenant_id: c.tenantId,
    occurred_at: c.occurredAt,
    data: {
      connected_account_id: c.accountId,
      connection_name: c.connectionName,
      identifier: c.identifier,
      previous_status: c.previous,
      status: c.status,
    },
  };
}
