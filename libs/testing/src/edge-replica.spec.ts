import { afterAll, beforeAll, expect, it } from 'vitest';
import { startNatsServer, type NatsServerHandle } from './nats-server.js';
import { startStack, type Stack } from './stack.js';

let nats: NatsServerHandle;
let stack: Stack;
beforeAll(async () => {
  nats = await startNatsServer();
  stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
});
afterAll(async () => {
  await stack?.close();
  await nats?.stop();
});

it('starts a second edge replica that serves the same tenants and stops on its own', async () => {
  const replica = await stack.startEdgeReplica();
  expect(replica.url).not.toBe(stack.baseUrl);
  const created = await fetch(`${stack.baseUrl}/api/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'replicated' }),
  });
  expect(created.status).toBe(201);
  const listed = (await (await fetch(`${replica.url}/api/v1/tenants`, { headers: { authorization: `Bearer ${stack.adminKey}` } })).json()) as { tenants: Array<{ name: string }> };
  expect(listed.tenants.map((t) => t.name)).toContain('replicated');
  await replica.stop();
  await expect(fetch(`${replica.url}/healthz`)).rejects.toThrow();
  expect((await fetch(`${stack.baseUrl}/healthz`)).status).toBe(200);
  expect(stack.exited()).toEqual([]);
});
