import type { Requester } from '../transport.js';
import type { Liveness, Readiness } from '../types.js';

/** The edge's health endpoints; they need no key. */
export class Health {
  constructor(private readonly transport: Requester) {}

  /** The edge process is up. */
  live(): Promise<Liveness> {
    return this.transport.json('health.live');
  }

  /** NATS connected and every service answering; a VmcpApiError UNAVAILABLE (503) otherwise. */
  ready(): Promise<Readiness> {
    return this.transport.json('health.ready');
  }
}
