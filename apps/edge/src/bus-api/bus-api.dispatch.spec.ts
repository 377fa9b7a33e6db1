import { busApi, VmcpError } from '@vmcp/contracts';
import { describe, expect, it } from 'vitest';
import { BusApiDispatcher, operation, replyPayload, type BusApiOperation } from './bus-api.dispatch.js';

const TENANT = 'ten_acme';
const KEY = 'vmcp_sk_acme';
const CONFIG = 'cfg_0123456789abcdefghijkl';
const encode = (s: string) => new TextEncoder().encode(s);

/** Every operation answering `unavailable`, with some replaced. */
function operations(overrides: BusApiOperation[] = []): BusApiOperation[] {
  const replaced = new Set(overrides.map((o) => o.rpc.subject));
  return [
    ...overrides,
    ...busApi.BUS_API_OPERATIONS.filter((rpc) => !replaced.has(rpc.subject)).map((rpc) =>
      operation(rpc, () => Promise.reject(new VmcpError('UNAVAILABLE', 'not in this test'))),
    ),
  ];
}

async function tenantOfKey(key: string): Promise<string> {
  if (key === KEY) return TENANT;
  if (key === 'admin') throw new VmcpError('FORBIDDEN', 'this operation needs a tenant API key');
  throw new VmcpError('UNAUTHENTICATED', 'invalid API key');
}

describe('BusApiDispatcher', () => {
  const seen: Array<[string, unknown]> = [];
  const dispatcher = new BusApiDispatcher(
    operations([
      operation(busApi.revokeToken, async (tenantId, req) => {
        seen.push([tenantId, req]);
        return { token_id: req.token_id, revoked: true, extra: 'kept' };
      }),
      operation(busApi.getLog, async () => ({ not: 'a log' })),
      operation(busApi.getAccount, async () => {
        throw new Error('database exploded: secret detail');
      }),
      operation(busApi.scopedTools, async () => {
        throw new VmcpError('CONFIG_NOT_FOUND', 'config not found');
      }),
    ]),
    tenantOfKey,
  );
  const send = (subject: string, data: string | Uint8Array, apiKeys: string[] = [KEY]) =>
    dispatcher.dispatch({ subject, data: typeof data === 'string' ? encode(data) : data, apiKeys });
  const revoke = busApi.revokeToken.subject;
  const tokenId = 'tok_0123456789abcdefghijkl';

  it('runs the operation in the key’s tenant and replies with its body unchanged', async () => {
    expect(await send(revoke, JSON.stringify({ token_id: tokenId }))).toEqual({ body: { token_id: tokenId, revoked: true, extra: 'kept' }, code: 'OK' });
    expect(seen.at(-1)).toEqual([TENANT, { token_id: tokenId }]);
  });

  it('refuses, in this order, a payload over the limit, an unknown subject, non-JSON, a bad key, a bad request', async () => {
    const big = new Uint8Array(busApi.BUS_API_MAX_PAYLOAD_BYTES + 1);
    const error = async (...args: Parameters<typeof send>) => ((await send(...args)).body as { error: unknown }).error;
    expect(await error('vmcp.api.v1.nope', big, [])).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: `request payload is larger than ${busApi.BUS_API_MAX_PAYLOAD_BYTES} bytes` });
    expect(await error('vmcp.api.v1.nope', '{', [])).toEqual({ code: 'NOT_FOUND', message: 'no bus API operation on subject vmcp.api.v1.nope' });
    expect(await error(`vmcp.api.v1.${'x'.repeat(1000)}`, '{}')).toMatchObject({ message: expect.stringMatching(/^no bus API operation on subject vmcp\.api\.v1\.x{188}$/) });
    expect(await error(revoke, '{', [])).toEqual({ code: 'INVALID_ARGUMENT', message: 'request payload is not valid JSON' });
    expect(await error(revoke, '{}', [])).toEqual({ code: 'UNAUTHENTICATED', message: 'missing Vmcp-Api-Key header' });
    expect(await error(revoke, '{}', [KEY, KEY])).toEqual({ code: 'UNAUTHENTICATED', message: 'malformed Vmcp-Api-Key header' });
    expect(await error(revoke, '{}', ['two words'])).toEqual({ code: 'UNAUTHENTICATED', message: 'malformed Vmcp-Api-Key header' });
    expect(await error(revoke, '{}', ['wrong'])).toEqual({ code: 'UNAUTHENTICATED', message: 'invalid API key' });
    expect(await error(revoke, '{}', ['admin'])).toEqual({ code: 'FORBIDDEN', message: 'this operation needs a tenant API key' });
    expect(await error(revoke, '{}')).toEqual({ code: 'INVALID_ARGUMENT', message: 'token_id: Invalid input: expected string, received undefined' });
    expect(await error(revoke, JSON.stringify({ token_id: tokenId, tenant_id: 'ten_other' }))).toEqual({ code: 'INVALID_ARGUMENT', message: '(root): Unrecognized key: "tenant_id"' });
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(await error(revoke, JSON.stringify({ token_id: deep }))).toEqual({ code: 'INVALID_ARGUMENT', message: 'JSON nested deeper than 32 levels' });
  });

  it('reads an empty payload as an empty request', async () => {
    const outcome = await send(busApi.scopedTools.subject, '');
    expect(outcome.body).toEqual({ error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^config_id: .*; identifier: /) } });
  });

  it('passes the operation’s own errors through, hides unexpected ones, and checks the reply', async () => {
    expect(await send(busApi.scopedTools.subject, JSON.stringify({ config_id: CONFIG, identifier: 'alice' }))).toEqual({
      body: { error: { code: 'CONFIG_NOT_FOUND', message: 'config not found' } },
      code: 'CONFIG_NOT_FOUND',
    });
    const failed = await send(busApi.getAccount.subject, JSON.stringify({ id: 'ca_0123456789abcdefghijkl' }));
    expect(failed).toMatchObject({ body: { error: { code: 'INTERNAL', message: 'internal error' } }, code: 'INTERNAL', unexpected: expect.any(Error) });
    const malformed = await send(busApi.getLog.subject, JSON.stringify({ execution_id: 'exe_0123456789abcdefghijkl' }));
    expect(malformed).toMatchObject({ code: 'INTERNAL', body: { error: { code: 'INTERNAL', message: expect.stringMatching(/^reply does not match vmcp\.api\.v1\.tool_call_logs\.get: /) } } });
  });

  it('serves every operation of the contract exactly once', () => {
    expect(() => new BusApiDispatcher(operations().slice(1), tenantOfKey)).toThrow(/without a handler: vmcp\.api\.v1\./);
    const all = operations();
    expect(() => new BusApiDispatcher([...all, all[0]!], tenantOfKey)).toThrow(/served twice/);
    for (const rpc of busApi.BUS_API_OPERATIONS) expect(dispatcher.operation(rpc.subject)).toBe(rpc);
    expect(dispatcher.operation('vmcp.api.v1.nope')).toBeUndefined();
  });
});

describe('replyPayload', () => {
  it('sends the body when it fits, and a RESOURCE_EXHAUSTED error naming the call when it does not', () => {
    const body = { execution_id: 'exe_0123456789abcdefghijkl', successful: true, data: 'x'.repeat(100) };
    const size = JSON.stringify(body).length;
    expect(replyPayload({ body, code: 'OK' }, size)).toEqual({ data: JSON.stringify(body), code: 'OK' });
    const refused = replyPayload({ body, code: 'OK' }, size - 1);
    expect(refused.code).toBe('RESOURCE_EXHAUSTED');
    expect(JSON.parse(refused.data)).toEqual({
      error: {
        code: 'RESOURCE_EXHAUSTED',
        message: `the reply of ${size} bytes is larger than the bus allows (${size - 1} bytes) (the call ran: execution_id exe_0123456789abcdefghijkl); use the REST API for it`,
      },
    });
    expect(JSON.parse(replyPayload({ body: { tools: ['é'.repeat(10)] }, code: 'OK' }, 20).data)).toMatchObject({ error: { message: expect.not.stringContaining('execution_id') } });
  });
});
