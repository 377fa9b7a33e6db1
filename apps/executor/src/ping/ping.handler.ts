import type { ping, RpcReply } from '@vmcp/contracts';
import { VMCP_VERSION } from '@vmcp/telemetry';

/** The executor keeps nothing durable: if the ping arrived over the bus, it is ready. */
export function pong(): RpcReply<typeof ping.executor> {
  return { service: 'executor', ready: true, version: VMCP_VERSION };
}
