import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  startNatsServer,
  startStack,
  startUpstreamMcpServer,
  waitFor,
  type NatsServerHandle,
  type Stack,
  type UpstreamMcpServer,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './harness.js';

// An operator's session with the vmcp command line against the real gateway: five
// services on a private NATS, an upstream MCP server built with the SDK, and the
// official SDK client as the agent that uses what the CLI set up.

const UPSTREAM_SECRET = 'alice-upstream-secret-cli-5e1f';
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

async function agent(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'vmcp-cli-e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}

function field(stdout: string, name: string): string {
  const value = new RegExp(`^${name}:\\s+(\\S+)$`, 'm').exec(stdout)?.[1];
  if (!value) throw new Error(`no ${name} in:\n${stdout}`);
  return value;
}

describe('vmcp CLI against the gateway', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let env: Record<string, string>;
  let tenantKey: string;
  let configId: string;
  let mcpUrl: string;
  let tokenId: string;
  let token: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
  });

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  const vmcp = (argv: string[], o: Parameters<typeof runCli>[1] = {}) => runCli(argv, { ...o, env: { ...env, ...o.env } });

  it('sets up a tenant, a connection, an account and a config', async () => {
    const created = await runCli(['tenants', 'create', 'acme', '--json'], { env: { VMCP_URL: stack.baseUrl, VMCP_ADMIN_KEY: stack.adminKey } });
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const reply = JSON.parse(created.stdout) as { tenant: { id: string; name: string }; api_key: string };
    expect(reply.tenant).toMatchObject({ id: expect.stringMatching(/^ten_/), name: 'acme' });
    tenantKey = reply.api_key;
    env = { VMCP_URL: stack.baseUrl, VMCP_API_KEY: tenantKey };

    const tenants = await runCli(['tenants', 'list'], { env: { VMCP_URL: stack.baseUrl, VMCP_ADMIN_KEY: stack.adminKey } });
    expect(tenants.stdout).toMatch(new RegExp(`^${reply.tenant.id}\\s+acme\\s+`, 'm'));

    const conn = await vmcp(['connections', 'create', 'upstream', '--connector', 'mcp', '--auth-type', 'bearer_token', '--url', upstream.url]);
    expect(conn).toMatchObject({ code: 0, stderr: '' });
    expect(field(conn.stdout, 'name')).toBe('upstream');

    const account = await vmcp(['accounts', 'connect', '--connection', 'upstream', '--identifier', 'alice', '--token-stdin'], { stdin: `${UPSTREAM_SECRET}\n` });
    expect(account).toMatchObject({ code: 0, stderr: '' });
    expect(field(account.stdout, 'status')).toBe('ACTIVE');
    expect(account.stdout).not.toContain(UPSTREAM_SECRET);
    const accounts = JSON.parse((await vmcp(['accounts', 'list', '--identifier', 'alice', '--json'])).stdout) as { connected_accounts: { connection_name: string; status: string }[] };
    expect(accounts.connected_accounts).toEqual([expect.objectContaining({ connection_name: 'upstream', status: 'ACTIVE' })]);

    const config = await vmcp(['configs', 'create', 'support', '--tools', 'upstream:echo,add', '--tools', 'upstream:fail', '--description', 'support agent']);
    expect(config).toMatchObject({ code: 0, stderr: '' });
    configId = field(config.stdout, 'id');
    mcpUrl = field(config.stdout, 'mcp_server_url');
    expect(mcpUrl).toBe(`${stack.publicUrl}/mcp/${configId}`);
    expect(field(config.stdout, 'tools')).toBe('upstream:echo,add,fail');
  });

  it('mints a token whose snippet works with the SDK client', async () => {
    const minted = await vmcp(['tokens', 'mint', configId, '--identifier', 'alice', '--expiry', '600']);
    expect(minted).toMatchObject({ code: 0, stderr: '' });
    token = field(minted.stdout, 'token');
    tokenId = field(minted.stdout, 'token_id');
    expect(field(minted.stdout, 'mcp_server_url')).toBe(mcpUrl);
    expect(minted.stdout).toContain(`new StreamableHTTPClientTransport(new URL(${JSON.stringify(mcpUrl)})`);
    expect(minted.stdout).toContain(`Authorization: "Bearer ${token}"`);
    expect(minted.stdout).toContain('"mcpServers"');

    const client = await agent(mcpUrl, token);
    clients.push(client);
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['add', 'echo', 'fail']);
    const echoed = await client.callTool({ name: 'echo', arguments: { text: 'via the snippet' } });
    expect(echoed.content).toEqual([{ type: 'text', text: 'via the snippet' }]);
    expect(upstream.calls.at(-1)!.headers.authorization).toBe(`Bearer ${UPSTREAM_SECRET}`);
  });

  it('shows the scoped tools and runs tools as the user', async () => {
    const scoped = await vmcp(['tools', 'scoped', '--config', configId, '--identifier', 'alice']);
    expect(scoped.code).toBe(0);
    expect(scoped.stdout.split('\n').slice(1, -1).map((l) => l.split(/\s+/)[0]).sort()).toEqual(['add', 'echo', 'fail']);

    const ran = await vmcp(['tools', 'run', 'echo', '--identifier', 'alice', '--config', configId, '--params', '{"text": "hi from the cli"}', '--agent-run-id', 'run-cli-1']);
    expect(ran).toMatchObject({ code: 0, stdout: 'hi from the cli\n' });
    expect(ran.stderr).toMatch(/^execution_id: exe_\w+\n$/);

    const byConnection = await vmcp(['tools', 'run', 'add', '--identifier', 'alice', '--connection', 'upstream', '--params-file', '-', '--json'], { stdin: '{"a": 2, "b": 3}' });
    expect(byConnection.code).toBe(0);
    expect(JSON.parse(byConnection.stdout)).toMatchObject({ successful: true, execution_id: expect.stringMatching(/^exe_/) });

    const failed = await vmcp(['tools', 'run', 'fail', '--identifier', 'alice', '--config', configId]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('upstream says no\n');
    expect(failed.stderr).toMatch(/error: TOOL_ERROR: /);
  });

  it('lists the audit log, tails new calls and verifies the chain', async () => {
    type Logs = { tool_call_logs: { execution_id: string; tool_name: string; status: string; agent_run_id: string | null }[] };
    const logs = await waitFor(
      async () => {
        const r = await vmcp(['logs', 'list', '--identifier', 'alice', '--since', '1h', '--json']);
        const body = JSON.parse(r.stdout) as Logs;
        // Four calls so far (echo by MCP, echo, add, fail by the CLI), each finished.
        return body.tool_call_logs.length >= 4 && body.tool_call_logs.every((e) => e.status !== 'STARTED') ? body : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'the calls in the audit log' },
    );
    expect(logs.tool_call_logs.find((e) => e.agent_run_id === 'run-cli-1')).toMatchObject({ tool_name: 'echo', status: 'SUCCESS' });
    expect(logs.tool_call_logs.find((e) => e.tool_name === 'fail')).toMatchObject({ status: 'ERROR' });

    const one = await vmcp(['logs', 'get', logs.tool_call_logs[0]!.execution_id]);
    expect(field(one.stdout, 'execution_id')).toBe(logs.tool_call_logs[0]!.execution_id);

    // The tail starts, a call happens, the tail prints it once, and stops on Ctrl-C (the signal).
    const stop = new AbortController();
    let polls = 0;
    let printed = '';
    const counting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      polls++;
      return res;
    };
    const tailing = vmcp(['logs', 'tail', '--identifier', 'alice', '--interval', '200ms'], { signal: stop.signal, fetch: counting, onStdout: (all) => (printed = all) });
    await waitFor(() => polls >= 1, { what: 'the first look of logs tail' });
    const client = await agent(mcpUrl, token);
    clients.push(client);
    await client.callTool({ name: 'add', arguments: { a: 20, b: 22 } });
    await waitFor(() => printed.includes(' add '), { timeoutMs: 10_000, what: 'logs tail to print the new call' });
    const after = polls;
    await waitFor(() => polls >= after + 2, { what: 'two more looks of logs tail' });
    stop.abort();
    const tail = await tailing;
    expect(tail).toMatchObject({ code: 0, stderr: '' });
    // Only the new call: the earlier ones were there before the tail started.
    const lines = tail.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\S+Z\s+SUCCESS\s+add\s+alice\s+upstream\s+\d+ms\s+exe_\w+$/);

    const verified = await vmcp(['audit', 'verify']);
    expect(verified).toMatchObject({ code: 0, stderr: '' });
    expect(field(verified.stdout, 'ok')).toBe('true');
  });

  it('revokes the token: the agent is refused at once', async () => {
    const revoked = await vmcp(['tokens', 'revoke', tokenId]);
    expect(revoked).toEqual({ code: 0, stdout: `revoked token ${tokenId}\n`, stderr: '' });
    await expect(agent(mcpUrl, token)).rejects.toMatchObject({ code: 401 });
  });

  it('fails clearly on bad input', async () => {
    const noKey = await runCli(['connections', 'list'], { env: { VMCP_URL: stack.baseUrl } });
    expect(noKey).toEqual({ code: 1, stdout: '', stderr: 'error: UNAUTHENTICATED: no API key: set VMCP_API_KEY or run "vmcp login"\n' });

    const wrongKey = await runCli(['connections', 'list'], { env: { VMCP_URL: stack.baseUrl, VMCP_API_KEY: 'vmcp_sk_not_a_real_key_at_all' } });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/^error: UNAUTHENTICATED: /);
    expect(wrongKey.stderr).not.toContain('vmcp_sk_not_a_real_key_at_all');

    const unknown = await vmcp(['connections', 'get', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: NOT_FOUND: .*nope/);
    expect(unknown.stderr).not.toMatch(/\n\s+at /);

    const badParams = await vmcp(['tools', 'run', 'echo', '--identifier', 'alice', '--config', configId, '--params', '{"text": hi}']);
    expect(badParams).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^error: USAGE: --params is not valid JSON/) });

    const keyFlag = await vmcp(['connections', 'list', '--api-key', tenantKey]);
    expect(keyFlag.code).toBe(2);
    expect(keyFlag.stderr).toMatch(/^error: USAGE: unknown option '--api-key'/);
    expect(keyFlag.stderr).not.toContain(tenantKey);
  });

  it('works as the built binary', async () => {
    const exec = promisify(execFile);
    const listed = await exec(process.execPath, [MAIN, 'configs', 'list', '--json'], { env: { PATH: process.env.PATH, ...env } });
    expect(JSON.parse(listed.stdout)).toMatchObject({ configs: [expect.objectContaining({ id: configId, name: 'support' })] });

    const refused = await exec(process.execPath, [MAIN, 'configs', 'list', '--api-key', tenantKey], { env: { PATH: process.env.PATH, ...env } }).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringMatching(/^error: USAGE: unknown option '--api-key'/) });
  });
});
