import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { Bus } from './bus.js';

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
