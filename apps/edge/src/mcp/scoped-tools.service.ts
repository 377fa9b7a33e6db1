import { Injectable } from '@nestjs/common';
import { policy, VmcpError, type ScopedTool, type SessionPrincipal, type UnavailableConnection } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import { DecisionCache } from './decision-cache.js';

/** `complete`: false when a connection's tools are missing because its discovery failed just now. */
export interface ScopedToolList {
  readonly tools: ScopedTool[];
  readonly complete: boolean;
}

/** A user's tool list through a config, as an agent's tools/list sees it: from the edge's cache when it holds it. */
@Injectable()
export class ScopedToolsService {
  constructor(
    private readonly bus: Bus,
    private readonly cache: DecisionCache,
  ) {}

  /**
   * Only a complete list is cached. One missing a connection whose discovery failed is
   * served as it is (the other connections' tools stay usable) and asked for again next
   * time; one with nothing in it and a failed discovery is an error, never an empty
   * catalog an agent would take for the truth.
   */
  async list(principal: SessionPrincipal): Promise<ScopedToolList> {
    const { tenant_id, config_id, identifier } = principal;
    const cached = this.cache.scopedTools(tenant_id, config_id, identifier);
    if (cached) return { tools: cached, complete: true };
    const generation = this.cache.generation(tenant_id);
    const { tools, unavailable } = await this.bus.request(policy.scopedTools, principal);
    if (unavailable.length === 0) {
      this.cache.rememberScopedTools(tenant_id, config_id, identifier, generation, tools);
    } else if (tools.length === 0) {
      throw discoveryFailed(unavailable);
    }
    return { tools, complete: unavailable.length === 0 };
  }
}

/** What the agent is told when nothing could be listed and a discovery failed: the codes, no upstream detail. */
export function discoveryFailed(unavailable: readonly UnavailableConnection[]): VmcpError {
  const codes = [...new Set(unavailable.map((u) => u.code))].join(', ');
  return new VmcpError('UNAVAILABLE', `no tools could be listed: tool discovery failed (${codes}); list the tools again later`);
}
