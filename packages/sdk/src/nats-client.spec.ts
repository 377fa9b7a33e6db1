import type { NatsConnection } from '@nats-io/nats-core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { BusRouteName } from './bus.js';
import { BUS_SUBJECTS, ROUTES, Vmcp, VmcpError, VmcpNats, type EventDelivery, type ToolCallFinished, type VmcpEvent, type VmcpTenantClient } from './index.js';

/** A connection that must never be used: the calls below fail before anything is sent. */
const untouchable = {
  request: () => {
    throw new Error('nothing may be sent');
  },
} as unknown as NatsConnection;

describe('one interface, two transports', () => {
  it('gives the shared methods the same signatures and reply types over HTTP and NATS', () => {
    expectTypeOf<Vmcp>().toExtend<VmcpTenantClient>();
    expectTypeOf<VmcpNats>().toExtend<VmcpTenantClient>();
    expectTypeOf<VmcpNats['configs']['mintToken']>().toEqualTypeOf<Vmcp['configs']['mintToken']>();
    expectTypeOf<VmcpNats['configs']['connectedAccounts']>().toEqualTypeOf<Vmcp['configs']['connectedAccounts']>();
    expectTypeOf<VmcpNats['tokens']['revoke']>().toEqualTypeOf<Vmcp['tokens']['revoke']>();
    expectTypeOf<VmcpNats['tools']['scoped']>().toEqualTypeOf<Vmcp['tools']['scoped']>();
    expectTypeOf<VmcpNats['tools']['execute']>().toEqualTypeOf<Vmcp['tools']['execute']>();
    expectTypeOf<VmcpNats['connectedAccounts']['list']>().toEqualTypeOf<Vmcp['connectedAccounts']['list']>();
    expectTypeOf<VmcpNats['connectedAccounts']['iterate']>().toEqualTypeOf<Vmcp['connectedAccounts']['iterate']>();
    expectTypeOf<VmcpNats['connectedAccounts']['get']>().toEqualTypeOf<Vmcp['connectedAccounts']['get']>();
    expectTypeOf<VmcpNats['connectedAccounts']['authorizationLink']>().toEqualTypeOf<Vmcp['connectedAccounts']['authorizationLink']>();
    expectTypeOf<VmcpNats['toolCallLogs']['list']>().toEqualTypeOf<Vmcp['toolCallLogs']['list']>();
    expectTypeOf<VmcpNats['toolCallLogs']['iterate']>().toEqualTypeOf<Vmcp['toolCallLogs']['iterate']>();
    expectTypeOf<VmcpNats['toolCallLogs']['get']>().toEqualTypeOf<Vmcp['toolCallLogs']['get']>();
  });

  it('lists in VmcpTenantClient exactly the REST operations the bus API offers', () => {
    // Each method of the interface, as `resource.method`; `iterate` is pages of `list`.
    type TenantMethod = { [R in keyof VmcpTenantClient]: `${R}.${Exclude<keyof VmcpTenantClient[R], 'iterate'> & string}` }[keyof VmcpTenantClient];
    expectTypeOf<TenantMethod>().toEqualTypeOf<BusRouteName>();

    const vmcp = new VmcpNats({ nats: untouchable, apiKey: 'k' }) as unknown as Record<string, Record<string, unknown>>;
    for (const name of Object.keys(BUS_SUBJECTS)) {
      const [resource, method] = name.split('.') as [string, string];
      expect(typeof vmcp[resource]?.[method], name).toBe('function');
      if (!name.startsWith('events.')) expect(ROUTES, name).toHaveProperty([name]);
    }
  });

  it('leaves out, at compile time, what the bus API does not offer, and refuses it at run time without sending', async () => {
    const vmcp = new VmcpNats({ nats: untouchable, apiKey: 'k' });
    // @ts-expect-error connections are managed over HTTP only
    expect(vmcp.connections).toBeUndefined();
    // @ts-expect-error nor is upserting a credential offered over NATS
    const upsert = vmcp.connectedAccounts.upsert as (input: unknown) => Promise<unknown>;
    await expect(upsert.call(vmcp.connectedAccounts, {})).rejects.toThrow(new VmcpError(
      'connectedAccounts.upsert is not available over NATS: the bus API offers only the methods of VmcpTenantClient and events (use new Vmcp({ baseUrl }) for the rest)',
    ));
    // @ts-expect-error the NDJSON export is HTTP only
    const exported = (vmcp.toolCallLogs.export as () => AsyncIterable<unknown>).call(vmcp.toolCallLogs);
    await expect(exported[Symbol.asyncIterator]().next()).rejects.toThrow(/toolCallLogs\.export is not available over NATS/);
    // @ts-expect-error the event feed is NATS only
    expect(new Vmcp({ baseUrl: 'http://127.0.0.1:1' }).events).toBeUndefined();
  });

  it('types deliveries by the types the cursor follows', () => {
    const vmcp = new VmcpNats({ nats: untouchable, apiKey: 'k' });
    type Delivered<I> = I extends AsyncIterable<infer D> ? D : never;
    expectTypeOf<Delivered<ReturnType<typeof vmcp.events.subscribe<'tool_call.finished'>>>['event']>().toEqualTypeOf<ToolCallFinished>();
    expectTypeOf(vmcp.events.subscribe).returns.toEqualTypeOf<AsyncGenerator<EventDelivery<VmcpEvent>, void, undefined>>();
  });
});

describe('options', () => {
  it('refuses a missing connection, a key that could break the header, and bad limits', () => {
    expect(() => new VmcpNats({ nats: undefined as unknown as NatsConnection, apiKey: 'k' })).toThrow(/nats must be an open NatsConnection/);
    for (const apiKey of ['', 'two words', 'k\r\nX-Other: 1', undefined as unknown as string]) {
      expect(() => new VmcpNats({ nats: untouchable, apiKey }), JSON.stringify(apiKey)).toThrow(/^apiKey must be a tenant API key/);
    }
    expect(() => new VmcpNats({ nats: untouchable, apiKey: 'k', timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => new VmcpNats({ nats: untouchable, apiKey: 'k', maxRetries: 1.5 })).toThrow(/maxRetries/);
  });
});
