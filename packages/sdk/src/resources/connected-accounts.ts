import { paginate } from '../pagination.js';
import type { Requester } from '../transport.js';
import type {
  AuthorizationLink,
  AuthorizationLinkInput,
  ConnectedAccount,
  ConnectedAccountFilter,
  ConnectedAccountPage,
  PageRequest,
  UpsertConnectedAccountInput,
} from '../types.js';

/** One identifier's credential on one connection. */
export class ConnectedAccounts {
  constructor(private readonly transport: Requester) {}

  /** Stores a static credential for the identifier, creating the account or replacing its credential. */
  upsert(input: UpsertConnectedAccountInput): Promise<{ connected_account: ConnectedAccount }> {
    return this.transport.json('connectedAccounts.upsert', { body: input });
  }

  list(filter: ConnectedAccountFilter & PageRequest = {}): Promise<ConnectedAccountPage> {
    return this.transport.json('connectedAccounts.list', { query: filter });
  }

  /** Every matching account, page after page as the loop gets there. */
  iterate(filter: ConnectedAccountFilter = {}): AsyncIterable<ConnectedAccount> {
    return paginate((page_token) => this.list({ ...filter, page_token }), (p) => p.connected_accounts);
  }

  get(id: string): Promise<{ connected_account: ConnectedAccount }> {
    return this.transport.json('connectedAccounts.get', { params: { id } });
  }

  /** Disconnects the account: its credential is destroyed, effective on the next call. */
  delete(id: string): Promise<{ connected_account: ConnectedAccount }> {
    return this.transport.json('connectedAccounts.delete', { params: { id } });
  }

  /** A link where the user authorizes an OAuth connection; the account stays PENDING_AUTH until they do. */
  authorizationLink(input: AuthorizationLinkInput): Promise<AuthorizationLink> {
    return this.transport.json('connectedAccounts.authorizationLink', { body: input });
  }
}
