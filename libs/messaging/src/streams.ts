import { jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { context, propagation } from '@opentelemetry/api';
import { VmcpError } from '@vmcp/contracts';
import type { Bus } from './bus.js';

/** How long JetStream remembers message ids to drop re-published duplicates. */
const DUPLICATE_WINDOW_NS = 2 * 60 * 1_000_000_000;
/** A publish waits this long for JetStream's acknowledgement (an audit "started" record holds up its call). */
const PUBLISH_TIMEOUT_MS = 2000;

const clients = new WeakMap<Bus, JetStreamClient>();

function jsFor(bus: Bus): JetStreamClient {
  let js = clients.get(bus);
  if (!js) {
    js = jetstream(bus.connection, { timeout: PUBLISH_TIMEOUT_MS });
    clients.set(bus, js);
  }
  return js;
}

/**
 * Creates a file-backed, limits-retention stream over `subjects` with a duplicate window and
 * the bus's replicas, or brings an existing one to that configuration: its replicas are raised
 * to the bus's, never lowered (an operator may have scaled it up by hand). With
 * `reconfigure: false` (a producer that does not own the stream) an existing stream is left
 * as it is: the producer's NATS user may make a missing stream but not change one.
 */
export async function ensureStream(
  bus: Bus,
  name: string,
  subjects: string[],
  options: { max_age?: number; reconfigure?: boolean } = {},
): Promise<void> {
  const jsm = await jetstreamManager(bus.connection);
  const { reconfigure = true, ...limits } = options;
  const config = { subjects, storage: StorageType.File, retention: RetentionPolicy.Limits, duplicate_window: DUPLICATE_WINDOW_NS, ...limits };
  let existing: StreamInfo;
  try {
    existing = await jsm.streams.info(name);
  } catch (err) {
    if (!/not found/i.test((err as Error).message)) throw err;
    await jsm.streams.add({ name, ...config, num_replicas: bus.jetstreamReplicas });
    return;
  }
  if (reconfigure) await jsm.streams.update(name, { ...config, num_replicas: Math.max(existing.config.num_replicas, bus.jetstreamReplicas) });
}

/**
 * Opens a KV bucket, creating it first (with the bus's replicas) when it does not exist. An
 * existing bucket is opened as it is: its settings belong to whoever made it.
 */
export function ensureBucket(bus: Bus, name: string, options: { history: number; ttl: number }): Promise<KV> {
  return new Kvm(bus.connection).create(name, { ...options, replicas: bus.jetstreamReplicas });
}

/**
 * Publishes one message and resolves once `stream` has stored it. `msgId` makes a
 * re-publish within the duplicate window a no-op, so retries are safe. The message carries
 * the current trace context. A failure is UNAVAILABLE, its message starting with `unavailable`.
 */
export async function publishToStream(bus: Bus, m: { stream: string; subject: string; data: unknown; msgId: string; unavailable: string }): Promise<void> {
  const h = natsHeaders();
  propagation.inject(context.active(), h, { set: (carrier, k, v) => carrier.set(k, v) });
  try {
    await jsFor(bus).publish(m.subject, JSON.stringify(m.data), { msgID: m.msgId, headers: h, expect: { streamName: m.stream }, timeout: PUBLISH_TIMEOUT_MS });
  } catch (err) {
    throw new VmcpError('UNAVAILABLE', `${m.unavailable}: ${(err as Error).message.slice(0, 200)}`);
  }
}

const managers = new WeakMap<Bus, JetStreamManager>();

async function managerFor(bus: Bus): Promise<JetStreamManager> {
  let jsm = managers.get(bus);
  if (!jsm) {
    // No API probe on creation: the first real call tells whether JetStream answers.
    jsm = await jetstreamManager(bus.connection, { checkAPI: false, timeout: 1000 });
    managers.set(bus, jsm);
  }
  return jsm;
}

/** Whether a JetStream stream exists (readiness checks); false when JetStream does not answer. */
export async function streamExists(bus: Bus, stream: string): Promise<boolean> {
  try {
    await (await managerFor(bus)).streams.info(stream);
    return true;
  } catch {
    return false;
  }
}

/** A durable consumer's info, or undefined when it, its stream or JetStream is not there. */
export async function consumerInfo(bus: Bus, stream: string, consumer: string) {
  try {
    return await (await managerFor(bus)).consumers.info(stream, consumer);
  } catch {
    return undefined;
  }
}
