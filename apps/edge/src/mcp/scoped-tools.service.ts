import { Injectable } from '@nestjs/common';
import { policy, type ScopedTool, type SessionPrincipal } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import { DecisionCache } from './decision-cache.js';

/** A user's tool list through a config, as an agent's tools/list sees it: from the edge's cache when it holds it. */
@Injectable()
export class ScopedToolsService {
  constructor(
    private readonly bus: Bus,
    private readonly cache: DecisionCache,
  ) {}

  async list(principal: SessionPrincipal): Promise<ScopedTool[]> {
    const { tenant_id, config_id, identifier } = principal;
    const cached = this.cache.scopedTools(tenant_id, config_id, identifier);
    if (cached) return cached;
    const generation = this.cache.generation(tenant_id);
    const { tools } = await this.bus.request(policy.scopedTools, principal);
    this.cache.rememberScopedTools(tenant_id, config_id, identifier, generation, tools);
    return tools;
  }
}
