import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { audit, newId, policy, vault } from '@vmcp/contracts';
import { Bus } from '@vmcp/messaging';
import {
  api,
  NATS_PERMISSIONS_FILE,
  natsUsers,
  permissionRefusal,
  startNatsServer,
  startStack,
  startUpstreamMcpServer,
  waitFor,
  type NatsServerHandle,
  type Stack,
  type UpstreamMcpServer,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAgent, connectStatus, textOf } from './mcp-client.js';

// DESIGN invariant 7: each service has its own NATS user, limited by infra/k8s/base/nats/permissions.conf
// (the same file production uses). The whole gateway works under it, and the bus itself
// refuses what a service has no business doing, JetStream and KV included: the file grants
// each stream, consumer and bucket by name, to the services that use it.

/** The default names the file grants (startStack uses them under per-service users). */
const AUDIT = 'AUDIT';
const EVENTS = 'VMCP_EVENTS';
const REVOCATIONS = 'vmcp_revocations';
const INTEREST = 'vmcp_event_interest';
const SESSIONS = 'vmcp_sessions';
const SERVICES = ['edge', 'policy', 'vault', 'executor', 'audit'] as const;


describe('least privilege on the bus', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  const creds = natsUsers();
  const buses: Bus[] = [];
  /** For a request the service answers: the 1.5 s the test buses wait is for the ones that never arrive. */
  const ANSWERED = { timeoutMs: 10_000 };
  const as = async (service: string) => {
    const u = creds.users[service]!;
    const bus = await Bus.connect({ url: nats.url, name: `test-as-${service}`, user: u.user, password: u.password, inboxPrefix: u.inboxPrefix, timeoutMs: 1500 });
    buses.push(bus);
    return bus;
  };
  /** A connection as `service` and a JetStream manager on it, without the account probe (the vault may not even ask that). */
  const jsAs = async (service: string) => {
    const nc = (await as(service)).connection;
    return { nc, jsm: await jetstreamManager(nc, { checkAPI: false }) };
  };

  /** A tenant with the upstream connected for `pat`, a config mapping `whoami`, and a session token. */
  const tenantWithToken = async (name: string) => {
    const admin = api(stack.baseUrl, stack.adminKey);
    const t = api(stack.baseUrl, ((await admin.post('/api/v1/tenants', { name })).body as { api_key: string }).api_key);
    await t.post('/api/v1/connections', { name: 'up', connector: 'mcp', auth_type: 'bearer_token', settings: { url: upstream.url } });
    await t.post('/api/v1/connected_accounts', { connection_name: 'up', identifier: 'pat', authorization_details: { static_auth: { token: 'pat-secret' } } });
    const cfg = (await t.post('/api/v1/mcp/configs', { name, connection_tool_mappings: [{ connection_name: 'up', tools: ['whoami'] }] })).body as {
      config: { id: string; mcp_server_url: string };
    };
    const tok = (await t.post(`/api/v1/mcp/configs/${cfg.config.id}/tokens`, { identifier: 'pat' })).body as { token: string; token_id: string };
    return { t, configId: cfg.config.id, url: cfg.config.mcp_server_url, token: tok.token, tokenId: tok.token_id };
  };

  beforeAll(async () => {
    nats = await startNatsServer({ configFile: NATS_PERMISSIONS_FILE, env: creds.serverEnv });
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite', natsUsers: creds.users });
  });

  afterAll(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  it('runs the whole gateway with one restricted user per service', async () => {
    const { t, configId, url, token } = await tenantWithToken('perm');
    const client = await connectAgent(url, token);
    expect(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).toContain('Bearer pat-secret');
    await client.close();
    // execute_tool both ways: through the config, and by connection (its own policy subject).
    for (const scope of [{ config_id: configId }, { connection_name: 'up' }]) {
      const r = await t.post<{ successful: boolean; data: unknown }>('/api/v1/execute_tool', { tool_name: 'whoami', identifier: 'pat', ...scope });
      expect(r.status, JSON.stringify(scope)).toBe(200);
      expect(JSON.stringify(r.body.data)).toContain('Bearer pat-secret');
    }
    // Every call reached the audit service through the AUDIT stream (its own consumer).
    const logs = await waitFor(async () => {
      const r = await t.get<{ tool_call_logs: Array<{ status: string }> }>('/api/v1/tool_call_logs');
      return r.body.tool_call_logs?.filter((l) => l.status === 'SUCCESS').length === 3 ? r.body.tool_call_logs : undefined;
    }, { what: 'three audited calls' });
    expect(logs).toHaveLength(3);
  });

  it('refuses the edge a plaintext credential, and the executor a session token', async () => {
    const request = { tenant_id: newId('ten'), account_id: newId('ca'), grant: 'a-grant-policy-never-signed' };
    // The executor reaches the vault (which refuses: policy granted nothing for that account)…
    await expect((await as('executor')).request(vault.resolveCredential, request, ANSWERED)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // …the edge never does.
    const edge = await as('edge');
    const refused = await edge.request(vault.resolveCredential, request).catch((e: { code?: string }) => e);
    expect(refused).toMatchObject({ code: expect.stringMatching(/UNAVAILABLE|DEADLINE_EXCEEDED/) });

    const mint = { tenant_id: newId('ten'), config_id: newId('cfg'), identifier: 'x' };
    await expect(edge.request(policy.mintToken, mint, ANSWERED)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const executor = await as('executor');
    await expect(executor.request(policy.mintToken, mint)).rejects.toMatchObject({ code: expect.stringMatching(/UNAVAILABLE|DEADLINE_EXCEEDED/) });
  });

  it('does not let a service listen in on another service’s requests', async () => {
    const edge = await as('edge');
    const sub = edge.connection.subscribe('vmcp.vault.v1.>');
    await expect(sub.closed).resolves.toBeInstanceOf(Error);
    // Nor on the replies another service receives (the vault's credential replies go to
    // the executor's inbox): each user may subscribe to its own inbox prefix only.
    for (const inbox of ['_INBOX_executor.>', '_INBOX.>', '>']) {
      const snoop = edge.connection.subscribe(inbox);
      await expect(snoop.closed).resolves.toBeInstanceOf(Error);
    }
  });

  // An audit trail that loses nothing (DESIGN, and invariant 6): the records the edge wrote stay
  // until the audit service has them, and nobody else writes records.
  it('lets no service but the audit service read, cut or consume the audit stream, and only the edge write to it', async () => {
    const { jsm: edge } = await jsAs('edge');
    // The edge's records go in; the stream itself is not the edge's to change or read.
    expect(await permissionRefusal(() => edge.streams.update(AUDIT, { max_msgs: 1 }))).toBe(`publish $JS.API.STREAM.UPDATE.${AUDIT}`);
    expect(await permissionRefusal(() => edge.streams.getMessage(AUDIT, { seq: 1 }))).toBe(`publish $JS.API.STREAM.MSG.GET.${AUDIT}`);
    expect(await permissionRefusal(() => edge.streams.deleteMessage(AUDIT, 1))).toBe(`publish $JS.API.STREAM.MSG.DELETE.${AUDIT}`);
    expect(await permissionRefusal(() => edge.consumers.add(AUDIT, { durable_name: 'snoop' }))).toBe(`publish $JS.API.CONSUMER.CREATE.${AUDIT}.snoop`);
    for (const service of SERVICES) {
      const { nc, jsm } = await jsAs(service);
      // Not even the audit service purges or deletes it: retention is applied to its database.
      expect(await permissionRefusal(() => jsm.streams.purge(AUDIT)), service).toBe(`publish $JS.API.STREAM.PURGE.${AUDIT}`);
      expect(await permissionRefusal(() => jsm.streams.delete(AUDIT)), service).toBe(`publish $JS.API.STREAM.DELETE.${AUDIT}`);
      if (service === 'audit') continue;
      // Pulling from (and so acknowledging away) the audit service's own consumer.
      const next = `$JS.API.CONSUMER.MSG.NEXT.${AUDIT}.audit-writer`;
      expect(await permissionRefusal(() => nc.request(next, JSON.stringify({ batch: 1 }))), service).toBe(`publish ${next}`);
      if (service === 'edge') continue;
      // A forged record, as if a call had happened.
      const forged = audit.auditEventSubject(newId('ten'));
      expect(await permissionRefusal(() => jetstream(nc).publish(forged, '{}')), service).toBe(`publish ${forged}`);
    }
  });

  it('lets only policy write the revocations bucket: no other service revokes or un-revokes a token', async () => {
    const { t, url, token, tokenId } = await tenantWithToken('revoke');
    expect((await t.delete(`/api/v1/mcp/tokens/${tokenId}`)).status).toBe(200);
    await waitFor(async () => (await connectStatus(url, token)) === 401, { what: 'the revoked token refused' });
    for (const service of SERVICES.filter((s) => s !== 'policy')) {
      const kv = await new Kvm((await as(service)).connection).open(REVOCATIONS);
      expect(await permissionRefusal(() => kv.delete(tokenId)), service).toBe(`publish $KV.${REVOCATIONS}.${tokenId}`);
      expect(await permissionRefusal(() => kv.put(newId('tok'), 'revoked')), service).toMatch(new RegExp(`^publish \\$KV\\.${REVOCATIONS}\\.tok_`));
      expect(await permissionRefusal(() => kv.destroy()), service).toBe(`publish $JS.API.STREAM.DELETE.KV_${REVOCATIONS}`);
      const { jsm } = await jsAs(service);
      expect(await permissionRefusal(() => jsm.streams.purge(`KV_${REVOCATIONS}`)), service).toBe(`publish $JS.API.STREAM.PURGE.KV_${REVOCATIONS}`);
    }
    // The revocation stands.
    expect(await connectStatus(url, token)).toBe(401);
  });

  it('lets policy and the edge mark tenants in the event-interest bucket, each only its own ready key, and no one delete it', async () => {
    const mark = `tool_calls.${newId('ten')}`;
    for (const service of SERVICES) {
      const { nc, jsm } = await jsAs(service);
      const kv = await new Kvm(nc).open(INTEREST);
      if (service === 'policy' || service === 'edge') {
        expect(await kv.put(mark, new Date().toISOString())).toBeGreaterThan(0);
        const other = service === 'policy' ? 'ready.edge' : 'ready.policy';
        expect(await permissionRefusal(() => kv.put(other, 'x')), service).toBe(`publish $KV.${INTEREST}.${other}`);
      } else {
        // The audit service only reads the marks; the executor and the vault have nothing to do with them.
        expect(await permissionRefusal(() => kv.put(mark, 'x')), service).toBe(`publish $KV.${INTEREST}.${mark}`);
      }
      expect(await permissionRefusal(() => kv.put('elsewhere', 'x')), service).toBe(`publish $KV.${INTEREST}.elsewhere`);
      expect(await permissionRefusal(() => kv.destroy()), service).toBe(`publish $JS.API.STREAM.DELETE.KV_${INTEREST}`);
      expect(await permissionRefusal(() => jsm.streams.purge(`KV_${INTEREST}`)), service).toBe(`publish $JS.API.STREAM.PURGE.KV_${INTEREST}`);
    }
  });

  it("keeps the edge's MCP sessions from every other service", async () => {
    const key = `$KV.${SESSIONS}.anything`;
    for (const service of SERVICES.filter((s) => s !== 'edge')) {
      const { nc, jsm } = await jsAs(service);
      expect(await permissionRefusal(() => jsm.direct.getMessage(`KV_${SESSIONS}`, { last_by_subj: key })), service).toBe(`publish $JS.API.DIRECT.GET.KV_${SESSIONS}.${key}`);
      expect(await permissionRefusal(() => jsm.streams.getMessage(`KV_${SESSIONS}`, { last_by_subj: key })), service).toBe(`publish $JS.API.STREAM.MSG.GET.KV_${SESSIONS}`);
      const kv = await new Kvm(nc).open(SESSIONS);
      expect(await permissionRefusal(() => kv.watch()), service).toMatch(new RegExp(`^publish \\$JS\\.API\\.CONSUMER\\.CREATE\\.KV_${SESSIONS}\\.`));
      expect(await permissionRefusal(() => kv.put('forged', '{}')), service).toBe(`publish $KV.${SESSIONS}.forged`);
    }
  });

  it('gives the vault no JetStream at all, and the executor only its webhook consumer', async () => {
    // Credentials never go through a stream or a bucket: the vault's user cannot even ask.
    const { jsm: vaultJsm } = await jsAs('vault');
    expect(await permissionRefusal(() => vaultJsm.getAccountInfo())).toBe('publish $JS.API.INFO');
    expect(await permissionRefusal(() => vaultJsm.streams.names().next())).toBe('publish $JS.API.STREAM.NAMES');
    const { jsm: executor } = await jsAs('executor');
    expect(await permissionRefusal(() => executor.streams.info(EVENTS))).toBe(`publish $JS.API.STREAM.INFO.${EVENTS}`);
    expect(await permissionRefusal(() => executor.streams.getMessage(EVENTS, { seq: 1 }))).toBe(`publish $JS.API.STREAM.MSG.GET.${EVENTS}`);
    expect(await permissionRefusal(() => executor.consumers.add(EVENTS, { durable_name: 'peek' }))).toBe(`publish $JS.API.CONSUMER.CREATE.${EVENTS}.peek`);
    // Its own consumer it may look up (made once policy has made the stream: waited for).
    const own = await waitFor(() => executor.consumers.info(EVENTS, 'webhook-delivery'), { what: 'the webhook consumer' });
    expect(own.name).toBe('webhook-delivery');
  });

  it("gives the operators JetStream administration and nothing of vmcp's own subjects", async () => {
    const { nc, jsm } = await jsAs('operator');
    // What infra/README.md's steps need: read and edit a stream (here an edit that changes nothing).
    const info = await jsm.streams.info(AUDIT);
    expect((await jsm.streams.update(AUDIT, { max_age: info.config.max_age })).config.max_age).toBe(info.config.max_age);
    // No request to a service, whatever the payload…
    for (const subject of [policy.mintToken.subject, vault.resolveCredential.subject, 'vmcp.api.v1.tokens.mint']) {
      expect(await permissionRefusal(() => nc.request(subject, '{}', { timeout: 1000 }))).toBe(`publish ${subject}`);
    }
    // …and no listening in on their requests, replies or events.
    for (const subject of ['vmcp.>', '_INBOX_executor.>', '_INBOX_internal.>', '>']) {
      await expect(nc.subscribe(subject).closed, subject).resolves.toBeInstanceOf(Error);
    }
  });

  it('saw no service of the gateway refused anything by the bus', async () => {
    // A missing grant that the code tolerates (a retry, a flow-control reply) shows here
    // rather than as a failed call. The refusals above came from this file's own connections
    // (test-as-<service>); the services' connections are named vmcp-<service>.
    const marker = `vmcp.not_granted.${newId('evt')}`;
    expect(await permissionRefusal(() => as('vault').then((b) => b.connection.request(marker)))).toBe(`publish ${marker}`);
    // The server logs in order: once this refusal is read, so is every earlier one.
    await waitFor(() => nats.violations().some((line) => line.includes(`"${marker}"`)), { what: 'the marker refusal in the server log' });
    expect(nats.violations().filter((line) => line.includes(':vmcp-'))).toEqual([]);
  });
});
