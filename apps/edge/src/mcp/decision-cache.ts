import { Inject, Injectable } from '@nestjs/common';
import { VMCP_CONFIG, type VmcpConfig } from '@vmcp/config';
import type { Decision, ScopedTool } from '@vmcp/contracts';
import { metrics } from '@vmcp/telemetry';
import { RevocationsService } from '../auth/revocations.service.js';

export type AllowDecision = Extract<Decision, { decision: 'allow' }>;

/** A cached decision is never used closer than this to its credential grant's expiry. */
const GRANT_MARGIN_MS = 30_000;
/** Bounds per kind, per edge; the oldest entries go first. */
const MAX_ENTRIES = 20_000;

interface Entry<T> {
  readonly value: T;
  readonly expiresAt: number;
}

/**
 * What policy said, kept at the edge so the common call costs no bus hop to policy: a
 * user's tool list (tools/list) and allow decisions (tools/call). Denials are never kept.
 *
 * Correctness comes from invalidation, not from the lifetime: policy writes a change mark
 * for a tenant after every change that could alter what its users see or may call (config,
 * connection, account status, an upstream's tool list), every edge watches the marks
 * (RevocationsService) and drops that tenant's entries at once. A generation per tenant
 * makes sure an answer that was computed before a change, and arrives after its mark, is
 * not stored. Token revocation is checked on every request before the cache is consulted;
 * the lifetime (VMCP_EDGE_CACHE_TTL_MS) only bounds a mark that was never written.
 */
@Injectable()
export class DecisionCache {
  private readonly generations = new Map<string, number>();
  /** Bumped by a watch restart: every tenant's in-flight answers become stale at once. */
  private epoch = 0;
  private readonly lists = new Map<string, Entry<ScopedTool[]>>();
  private readonly decisions = new Map<string, Entry<AllowDecision>>();

  constructor(
    @Inject(VMCP_CONFIG) private readonly config: VmcpConfig,
    revocations: RevocationsService,
  ) {
    revocations.onChange({ tenantChanged: (t) => this.invalidateTenant(t), reset: () => this.clear() });
  }

  /** The tenant's current generation; pass it back to `remember*` to store an answer computed after it. */
  generation(tenantId: string): string {
    return `${this.epoch}.${this.generations.get(tenantId) ?? 0}`;
  }

  scopedTools(tenantId: string, configId: string, identifier: string): ScopedTool[] | undefined {
    return this.lookup('tools', this.lists, listKey(tenantId, configId, identifier));
  }

  rememberScopedTools(tenantId: string, configId: string, identifier: string, generation: string, tools: ScopedTool[]): void {
    if (!this.enabled || generation !== this.generation(tenantId)) return;
    store(this.lists, listKey(tenantId, configId, identifier), { value: tools, expiresAt: Date.now() + this.config.edgeCacheTtlMs });
  }

  /** `scope` is `cfg_…` for a call through a config, `conn:<name>` for one by connection. */
  decision(tenantId: string, scope: string, identifier: string, toolName: string): AllowDecision | undefined {
    return this.lookup('decision', this.decisions, decisionKey(tenantId, scope, identifier, toolName));
  }

  rememberDecision(tenantId: string, scope: string, identifier: string, toolName: string, generation: string, decision: AllowDecision): void {
    if (!this.enabled || generation !== this.generation(tenantId) || !decision.input_schema) return;
    const grantExpiresAt = grantExpiryMs(decision.grant);
    if (grantExpiresAt === undefined) return;
    const expiresAt = Math.min(Date.now() + this.config.edgeCacheTtlMs, grantExpiresAt - GRANT_MARGIN_MS);
    if (expiresAt <= Date.now()) return;
    store(this.decisions, decisionKey(tenantId, scope, identifier, toolName), { value: decision, expiresAt });
  }

  invalidateTenant(tenantId: string): void {
    this.generations.set(tenantId, (this.generations.get(tenantId) ?? 0) + 1);
    const prefix = `${tenantId}\u0000`;
    for (const map of [this.lists, this.decisions] as Map<string, unknown>[]) {
      for (const key of map.keys()) if (key.startsWith(prefix)) map.delete(key);
    }
  }

  clear(): void {
    this.epoch++;
    this.lists.clear();
    this.decisions.clear();
  }

  private get enabled(): boolean {
    return this.config.edgeCacheTtlMs > 0;
  }

  private lookup<T>(kind: 'tools' | 'decision', map: Map<string, Entry<T>>, key: string): T | undefined {
    if (!this.enabled) return undefined;
    const entry = map.get(key);
    const hit = entry !== undefined && entry.expiresAt > Date.now();
    if (entry && !hit) map.delete(key);
    metrics().toolCalls.cacheLookup(kind, hit);
    return hit ? entry.value : undefined;
  }
}

function listKey(tenantId: string, configId: string, identifier: string): string {
  return `${tenantId}\u0000${configId}\u0000${identifier}`;
}

function decisionKey(tenantId: string, scope: string, identifier: string, toolName: string): string {
  return `${tenantId}\u0000${scope}\u0000${identifier}\u0000${toolName}`;
}

function store<T>(map: Map<string, Entry<T>>, key: string, entry: Entry<T>): void {
  map.delete(key);
  if (map.size >= MAX_ENTRIES) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, entry);
}

/** The grant's `exp` in ms (policy signed it; the vault verifies it, the edge only reads when it ends). */
function grantExpiryMs(grant: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(grant.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
