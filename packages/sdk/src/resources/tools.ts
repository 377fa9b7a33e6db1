import type { Requester } from '../transport.js';
import type { ExecuteToolInput, ExecuteToolResult, ScopedTools, ScopedToolsQuery, ToolCatalogQuery, ToolDefinition } from '../types.js';

/** Tool definitions, and running a tool without an MCP client. */
export class Tools {
  constructor(private readonly transport: Requester) {}

  /** The static tool definitions of the catalog's connectors (or of one). */
  catalog(query: ToolCatalogQuery = {}): Promise<{ tools: ToolDefinition[] }> {
    return this.transport.json('tools.catalog', { query });
  }

  /** Exactly what that identifier's agent would see through that config, and which connections could not be discovered just now. */
  scoped(query: ScopedToolsQuery): Promise<ScopedTools> {
    return this.transport.json('tools.scoped', { query });
  }

  /**
   * Runs one tool for an identifier through the same policy, vault and audit path as an
   * MCP call. Never retried: the tool may have acted even when the reply was lost.
   */
  execute(input: ExecuteToolInput): Promise<ExecuteToolResult> {
    return this.transport.json('tools.execute', { body: input });
  }
}
