import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { skipSettledRequestErrors } from './settled-requests.js';

// Unique subjects per run: the shared NATS on 4222 may carry other runs' traffic.
const run = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const NATS = 'nats://127.0.0.1:4222';

// nats-core's own errors module, as its request code reads it (`new errors_1.RequestError(…)`).
const require = createRequire(import.meta.url);
const errorsModule = require(join(dirname(require.resolve('@nats-io/nats-core/internal')), 'errors.js')) as { RequestError: new (...args: never[]) => Error };

/** Counts the RequestErrors nats.js constructs while `fn` runs. */
async function requestErrorsDuring(fn: () => Promise<unknown>): Promise<number> {
  const Original = errorsModule.RequestError;
  let made = 0;
  errorsModule.RequestError = class extends Original {
    constructor(...args: never[]) {
      super(...args);
      made++;
    }
  };
  try {
    await fn();
  } finally {
    errorsModule.RequestError = Original;
  }
  return made;
}

describe('skipSettledRequestErrors', () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers: NATS, noAsyncTraces: true });
    nc.subscribe(`vmcp.test.${run}.echo`, { callback: (_err, msg) => void msg.respond(msg.data) });
    await nc.flush();
  });
  afterAll(async () => {
    await nc?.close();
  });
  const closing: NatsConnection[] = [];
  afterEach(async () => {
    await Promise.all(closing.splice(0).map((c) => c.close().catch(() => undefined)));
  });

  it('takes effect on the nats.js installed here (an upgrade that changes its internals fails this)', () => {
    expect(skipSettledRequestErrors()).toBe(true);
    // Once per process: a second call does not wrap the wrappers.
    expect(skipSettledRequestErrors()).toBe(true);
  });

  it('answers requests without building an error for the settled promise', async () => {
    skipSettledRequestErrors();
    let replies: string[] = [];
    const made = await requestErrorsDuring(async () => {
      replies = await Promise.all([1, 2, 3].map(async (i) => (await nc.request(`vmcp.test.${run}.echo`, `hi ${i}`, { timeout: 2000 })).string()));
    });
    expect(replies).toEqual(['hi 1', 'hi 2', 'hi 3']);
    expect(made).toBe(0);
    // Nothing is left in the connection's table of pending requests.
    expect((nc as unknown as { protocol: { muxSubscriptions: { size(): number } } }).protocol.muxSubscriptions.size()).toBe(0);
  });

  it('leaves every failure as nats.js reports it: no responders, timeout, closed connection', async () => {
    skipSettledRequestErrors();
    await expect(nc.request(`vmcp.test.${run}.nobody`, 'x', { timeout: 2000 })).rejects.toMatchObject({ name: 'RequestError', message: expect.stringContaining('no responders') });
    nc.subscribe(`vmcp.test.${run}.silent`, { callback: () => undefined });
    await nc.flush();
    await expect(nc.request(`vmcp.test.${run}.silent`, 'x', { timeout: 100 })).rejects.toMatchObject({ name: 'TimeoutError' });

    const other = await connect({ servers: NATS, noAsyncTraces: true });
    closing.push(other);
    other.subscribe(`vmcp.test.${run}.silent2`, { callback: () => undefined });
    await other.flush();
    const pending = other.request(`vmcp.test.${run}.silent2`, 'x', { timeout: 5000 });
    void other.close();
    await expect(pending).rejects.toMatchObject({ name: 'RequestError', message: 'connection closed' });
  });
});
