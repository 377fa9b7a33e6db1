import { policy, VmcpError, type RpcReply } from '@vmcp/contracts';
import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import type { Bus } from './bus.js';

type KeysReply = RpcReply<typeof policy.tokenKeys>;

export interface PolicyKeys {
  readonly issuer: string;
  readonly jwks: ReturnType<typeof createLocalJWKSet>;
}

/**
 * Policy's public signing keys (session tokens and credential grants), fetched over the
 * bus and kept: fetched again when a token names a key id not seen yet, at most once per
 * `refetchIntervalMs`, with concurrent callers sharing one fetch.
 */
export class PolicyKeySet {
  private keys?: PolicyKeys & { kids: Set<string> };
  private lastFetch = 0;
  private inflight?: Promise<void>;

  constructor(
    private readonly fetch: () => Promise<KeysReply>,
    private readonly refetchIntervalMs: number,
    /** Called after every fetch: keys may have been retired, so what was verified with them must be redone. */
    private readonly onFetched?: () => void,
  ) {}

  static overBus(bus: Bus, refetchIntervalMs: number, onFetched?: () => void): PolicyKeySet {
    return new PolicyKeySet(() => bus.request(policy.tokenKeys, {}), refetchIntervalMs, onFetched);
  }

  /** The keys to verify a token signed with `kid`; UNAVAILABLE when policy's keys cannot be had. */
  async forKid(kid: string): Promise<PolicyKeys> {
    if (!this.keys || (!this.keys.kids.has(kid) && Date.now() - this.lastFetch > this.refetchIntervalMs)) await this.load();
    if (!this.keys) throw new VmcpError('UNAVAILABLE', "policy's signing keys are not available");
    return this.keys;
  }

  private load(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        const reply = await this.fetch();
        this.keys = {
          issuer: reply.issuer,
          jwks: createLocalJWKSet({ keys: reply.keys } as JSONWebKeySet),
          kids: new Set(reply.keys.map((k) => k.kid)),
        };
        this.lastFetch = Date.now();
        this.onFetched?.();
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }
}
