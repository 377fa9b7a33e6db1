import type { Requester } from '../transport.js';
import type { Connector, ConnectorsQuery } from '../types.js';

/** The connector catalog this build of vmcp ships. */
export class Connectors {
  constructor(private readonly transport: Requester) {}

  /** `include: 'tools'` adds each connector's static tool definitions (none for `mcp`, whose tools are discovered). */
  list(query: ConnectorsQuery = {}): Promise<{ connectors: Connector[] }> {
    return this.transport.json('connectors.list', { query });
  }
}
