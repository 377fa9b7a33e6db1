import 'reflect-metadata';
import { Controller, Module, UseGuards, type CanActivate, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, NatsContext, Payload, ServerNats } from '@nestjs/microservices';
import { of } from 'rxjs';
import { defineRpc, VmcpError } from '@vmcp/contracts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { Bus } from './bus.js';
import { serveRpc, VmcpNatsServer } from './nats-server.strategy.js';
import { metrics } from '@vmcp/telemetry';

// Unique subjects per run: the shared NATS on 4222 may carry other runs' traffic.
const run = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const echo = defineRpc({
  subject: `vmcp.test.v1.${run}.echo`,
  request: z.strictObject({ text: z.string().max(10), fail: z.enum(['none', 'vmcp', 'crash', 'bad_reply', 'slow']).default('none') }),
  reply: z.object({ text: z.string() }),
});
const nobody = defineRpc({ subject: `vmcp.test.v1.${run}.nobody`, request: z.object({}), reply: z.object({}) });
const text = z.object({ text: z.string() });
const streamed = defineRpc({ subject: `vmcp.test.v1.${run}.streamed`, request: z.object({}), reply: text });
const thrown = defineRpc({ subject: `vmcp.test.v1.${run}.thrown`, request: z.object({}), reply: text });
const guarded = defineRpc({ subject: `vmcp.test.v1.${run}.guarded`, request: z.object({}), reply: text });
const noted = `vmcp.test.v1.${run}.noted`;
const notes: unknown[] = [];

class Refuse implements CanActivate {
  canActivate() {
    return false;
  }
}

@Controller()
class EchoController {
  @MessagePattern(echo.subject)
  handle(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
    return serveRpc(echo, data, ctx, async (req) => {
      if (req.fail === 'vmcp') throw new VmcpError('NOT_FOUND', 'no such echo');
      if (req.fail === 'crash') throw new Error('secret-internal-detail');
      if (req.fail === 'bad_reply') return { wrong: true } as never;
      if (req.fail === 'slow') await new Promise((r) => setTimeout(r, 500));
      return { text: req.text.toUpperCase() };
    });
  }
}

/** Handlers that do not answer through serveRpc: what Nest's own machinery makes of them. */
@Controller()
class RawController {
  @MessagePattern(streamed.subject)
  streamed() {
    return of({ text: 'first' }, { text: 'last' });
  }

  @MessagePattern(thrown.subject)
  thrown(): never {
    throw new Error('secret-internal-detail');
  }

  @UseGuards(Refuse)
  @MessagePattern(guarded.subject)
  guarded() {
    return { text: 'never' };
  }

  @EventPattern(noted)
  noted(@Payload() data: unknown) {
    notes.push(data);
  }
}

@Module({ controllers: [EchoController, RawController] })
class EchoModule {}

describe('bus request/reply through the Nest NATS transport', () => {
  let server: INestMicroservice;
  let serverBus: Bus;
  let client: Bus;

  beforeAll(async () => {
    serverBus = await Bus.connect({ url: 'nats://127.0.0.1:4222', name: 'test-server', timeoutMs: 1000 });
    server = await NestFactory.createMicroservice(EchoModule, { strategy: new VmcpNatsServer(serverBus, 'test', { drainTimeoutMs: 1000 }), logger: false });
    await server.listen();
    client = await Bus.connect({ url: 'nats://127.0.0.1:4222', name: 'test-client', timeoutMs: 1000 });
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
    await serverBus?.close();
  });

  it('returns the validated reply', async () => {
    await expect(client.request(echo, { text: 'hi' })).resolves.toEqual({ text: 'HI' });
  });

  it('routes a request by its subject without parsing the subject as JSON', async () => {
    const parse = vi.spyOn(JSON, 'parse');
    try {
      await expect(client.request(echo, { text: 'route' })).resolves.toEqual({ text: 'ROUTE' });
      expect(parse.mock.calls.some(([text]) => text === echo.subject)).toBe(false);
    } finally {
      parse.mockRestore();
    }
  });

  it("answers a request without Nest's per-reply stream plumbing", async () => {
    const send = vi.spyOn(ServerNats.prototype, 'send');
    try {
      await expect(client.request(echo, { text: 'lean' })).resolves.toEqual({ text: 'LEAN' });
      expect(send).not.toHaveBeenCalled();
    } finally {
      send.mockRestore();
    }
  });

  it('keeps what Nest does around a handler: the first value of an Observable, exception filters and guards answer, events stay events', async () => {
    await expect(client.request(streamed, {})).resolves.toEqual({ text: 'first' });
    const failure = await client.request(thrown, {}).catch((e: VmcpError) => e);
    expect(failure).toMatchObject({ code: 'INTERNAL', message: 'internal error' });
    expect(JSON.stringify(failure)).not.toContain('secret');
    await expect(client.request(guarded, {})).rejects.toMatchObject({ code: 'INTERNAL' });
    client.connection.publish(noted, JSON.stringify({ n: 1 }));
    await vi.waitFor(() => expect(notes).toEqual([{ n: 1 }]), { timeout: 5000 });
  });

  it('rejects an invalid request before sending it', async () => {
    await expect(client.request(echo, { text: 'far too long text' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('answers malformed and foreign bodies with a typed error, never a timeout', async () => {
    const raw = await client.connection.request(echo.subject, 'not json{', { timeout: 1000 });
    expect(raw.json()).toEqual({ error: { code: 'INVALID_ARGUMENT', message: 'request body is not valid JSON' } });
    const foreign = await client.connection.request(echo.subject, JSON.stringify({ text: 'a', extra: 1 }), { timeout: 1000 });
    expect(foreign.json()).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  });

  it('carries error codes across the bus and hides internal details', async () => {
    await expect(client.request(echo, { text: 'x', fail: 'vmcp' })).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'no such echo' });
    const crash = await client.request(echo, { text: 'x', fail: 'crash' }).catch((e: VmcpError) => e);
    expect(crash).toMatchObject({ code: 'INTERNAL', message: 'internal error' });
    await expect(client.request(echo, { text: 'x', fail: 'bad_reply' })).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('fails fast with UNAVAILABLE when nobody answers, and with DEADLINE_EXCEEDED on timeout', async () => {
    await expect(client.request(nobody, {})).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(client.request(echo, { text: 'x', fail: 'slow' }, { timeoutMs: 100 })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
  });

  it('measures both ends by subject and code, timeouts counted apart, no message as a label', async () => {
    // The tests above ran in this process: their requests are in the process's metrics.
    const text = await metrics().scrape();
    const line = (name: string, labels: string) => text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
    const count = (name: string, labels: string) => Number(line(name, labels)?.split(' ')[1] ?? 0);
    expect(count('vmcp_nats_request_duration_seconds_count', `subject="${echo.subject}"`)).toBeGreaterThanOrEqual(5);
    expect(count('vmcp_nats_request_errors_total', `subject="${echo.subject}",code="NOT_FOUND"`)).toBe(1);
    expect(count('vmcp_nats_request_errors_total', `subject="${nobody.subject}",code="UNAVAILABLE"`)).toBe(1);
    expect(count('vmcp_nats_request_timeouts_total', `subject="${echo.subject}"`)).toBe(1);
    expect(count('vmcp_nats_handler_duration_seconds_count', `subject="${echo.subject}",code="OK"`)).toBeGreaterThanOrEqual(1);
    expect(count('vmcp_nats_handler_duration_seconds_count', `subject="${echo.subject}",code="INVALID_ARGUMENT"`)).toBe(2);
    expect(count('vmcp_nats_handler_duration_seconds_count', `subject="${echo.subject}",code="INTERNAL"`)).toBe(2);
    expect(text).not.toContain('secret-internal-detail');
    expect(text).not.toContain('no such echo');
  });
});

// Two replicas of one service: a request each holds until the test lets it go, and one that
// says who answered.
const hold = defineRpc({ subject: `vmcp.test.v1.${run}.hold`, request: z.object({ id: z.string() }), reply: z.object({ by: z.string() }) });
const who = defineRpc({ subject: `vmcp.test.v1.${run}.who`, request: z.object({}), reply: z.object({ by: z.string() }) });

function replicaModule(name: string, held: Map<string, () => void>) {
  @Controller()
  class ReplicaController {
    @MessagePattern(hold.subject)
    hold(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
      return serveRpc(hold, data, ctx, async (req) => {
        await new Promise<void>((release) => held.set(req.id, release));
        return { by: name };
      });
    }

    @MessagePattern(who.subject)
    who(@Payload() data: unknown, @Ctx() ctx: NatsContext) {
      return serveRpc(who, data, ctx, () => ({ by: name }));
    }
  }
  @Module({ controllers: [ReplicaController] })
  class ReplicaModule {}
  return ReplicaModule;
}

describe('closing a responder drains it', () => {
  const buses: Bus[] = [];
  const apps: INestMicroservice[] = [];
  let client: Bus;

  const replica = async (name: string, drainTimeoutMs = 30_000) => {
    const bus = await Bus.connect({ url: 'nats://127.0.0.1:4222', name: `test-${name}`, timeoutMs: 5000 });
    buses.push(bus);
    const held = new Map<string, () => void>();
    const app = await NestFactory.createMicroservice(replicaModule(name, held), { strategy: new VmcpNatsServer(bus, `drain-${run}`, { drainTimeoutMs }), logger: false });
    await app.listen();
    // The subscriptions are at the server before any request is sent.
    await bus.flush();
    apps.push(app);
    return { bus, app, held };
  };

  beforeAll(async () => {
    client = await Bus.connect({ url: 'nats://127.0.0.1:4222', name: 'test-drain-client', timeoutMs: 5000 });
  });

  afterAll(async () => {
    await Promise.allSettled(apps.map((a) => a.close()));
    await Promise.allSettled([client, ...buses].map((b) => b?.close()));
  });

  it('answers the requests in flight however long they take, while the other replica takes the new ones', async () => {
    const a = await replica('a');
    const call = client.request(hold, { id: 'r1' }, { timeoutMs: 20_000 });
    await vi.waitFor(() => expect(a.held.has('r1')).toBe(true), { timeout: 10_000 });
    const b = await replica('b');

    let closed = false;
    const closing = a.app.close().then(() => (closed = true));
    // Once A's unsubscribe has reached the server (its connection flushed), NATS routes every
    // new request of the group to B.
    await a.bus.flush();
    for (let i = 0; i < 10; i++) await expect(client.request(who, {})).resolves.toEqual({ by: 'b' });
    expect(closed).toBe(false);

    a.held.get('r1')!();
    await expect(call).resolves.toEqual({ by: 'a' });
    await closing;
    expect(b.held.size).toBe(0);
    await b.app.close();
  });

  it('stops waiting at its bound: the caller gets its own timeout, the close does not hang', async () => {
    const c = await replica('c', 50);
    const call = client.request(hold, { id: 'stuck' }, { timeoutMs: 2000 }).catch((e: VmcpError) => e);
    await vi.waitFor(() => expect(c.held.has('stuck')).toBe(true), { timeout: 10_000 });
    await c.app.close();
    await expect(call).resolves.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
  });
});
