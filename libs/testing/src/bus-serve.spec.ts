import { defineRpc, VmcpError } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startNatsServer, type NatsServerHandle } from './nats-server.js';

// Here rather than in libs/messaging, which may not depend on the test helpers.
// Bus.serve answers one RPC under one subject token; Bus.request reaches it with the same
// token, and gives up at once when its signal aborts. Every request gets a reply: a typed
// error for a request that does not parse or a handler that fails.

const double = defineRpc({
  subject: 'vmcp.test.v1.double',
  request: z.object({ n: z.number().int() }).strict(),
  reply: z.object({ doubled: z.number().int() }),
});

describe('Bus.serve and token requests', () => {
  let nats: NatsServerHandle;
  let server: Bus;
  let client: Bus;

  beforeAll(async () => {
    nats = await startNatsServer();
    server = await Bus.connect({ url: nats.url, name: 'serve', timeoutMs: 2000 });
    client = await Bus.connect({ url: nats.url, name: 'ask', timeoutMs: 2000 });
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
    await nats?.stop();
  });

  it("answers on its token's subject only, until unsubscribed", async () => {
    const sub = server.serve(double, 'exe_one', async ({ n }) => ({ doubled: n * 2 }));
    await server.flush();
    expect(await client.request(double, { n: 21 }, { token: 'exe_one' })).toEqual({ doubled: 42 });
    await expect(client.request(double, { n: 1 }, { token: 'exe_two' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(client.request(double, { n: 1 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    sub.unsubscribe();
    await server.flush();
    await expect(client.request(double, { n: 1 }, { token: 'exe_one' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it("replies with the handler's code, INTERNAL for anything else or a reply off the contract, and INVALID_ARGUMENT for a request that does not parse", async () => {
    const subs = [
      server.serve(double, 'refuses', async () => {
        throw new VmcpError('FAILED_PRECONDITION', 'not now');
      }),
      server.serve(double, 'crashes', async () => {
        throw new Error('boom with internals');
      }),
      server.serve(double, 'off_contract', async () => ({ doubled: 'two' }) as never),
    ];
    await server.flush();
    await expect(client.request(double, { n: 1 }, { token: 'refuses' })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', message: 'not now' });
    const crashed = await client.request(double, { n: 1 }, { token: 'crashes' }).catch((e: VmcpError) => e);
    expect(crashed).toMatchObject({ code: 'INTERNAL' });
    expect((crashed as VmcpError).message).not.toContain('internals');
    await expect(client.request(double, { n: 1 }, { token: 'off_contract' })).rejects.toMatchObject({ code: 'INTERNAL' });
    // What another client might send, past Bus's own checks.
    const raw = await client.connection.request('vmcp.test.v1.double.refuses', '{"n":"x"', { timeout: 2000 });
    expect(raw.json()).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    for (const s of subs) s.unsubscribe();
  });

  it('refuses a token that would widen or leave the subject', async () => {
    for (const token of ['a.b', '*', '>', 'with space', '']) {
      await expect(client.request(double, { n: 1 }, { token })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(() => server.serve(double, token, async () => ({ doubled: 0 }))).toThrow(VmcpError);
    }
  });

  it('gives up at once with CANCELLED when the signal aborts, whatever the responder does', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const sub = server.serve(double, 'slow', async ({ n }) => {
      await held;
      return { doubled: n * 2 };
    });
    await server.flush();
    const stop = new AbortController();
    const pending = client.request(double, { n: 1 }, { token: 'slow', signal: stop.signal, timeoutMs: 10_000 });
    stop.abort();
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(client.request(double, { n: 1 }, { token: 'slow', signal: stop.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    release();
    sub.unsubscribe();
  });
});
