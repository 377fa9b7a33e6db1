import { paginate } from '../pagination.js';
import type { Requester } from '../transport.js';
import type { Connection, ConnectionPage, CreateConnectionInput, DeletedConnection, PageRequest, UpdateConnectionInput } from '../types.js';

/** A tenant's configured use of a connector, addressed by its name: where it lives and how users authenticate. */
export class Connections {
  constructor(private readonly transport: Requester) {}

  create(input: CreateConnectionInput): Promise<{ connection: Connection }> {
    return this.transport.json('connections.create', { body: input });
  }

  list(page: PageRequest = {}): Promise<ConnectionPage> {
    return this.transport.json('connections.list', { query: page });
  }

  /** Every connection, page after page as the loop gets there. */
  iterate(page: Omit<PageRequest, 'page_token'> = {}): AsyncIterable<Connection> {
    return paginate((page_token) => this.list({ ...page, page_token }), (p) => p.connections);
  }

  get(name: string): Promise<{ connection: Connection }> {
    return this.transport.json('connections.get', { params: { name } });
  }

  update(name: string, input: UpdateConnectionInput): Promise<{ connection: Connection }> {
    return this.transport.json('connections.update', { params: { name }, body: input });
  }

  /** Deletes the connection, its connected accounts and their credentials. */
  delete(name: string): Promise<DeletedConnection> {
    return this.transport.json('connections.delete', { params: { name } });
  }
}
