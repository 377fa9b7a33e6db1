import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiError, fakeApi, isolatedEnv, runCli, type RecordedRequest } from './harness.js';

// The command tree in-process against a fake API: what reaches the API, what is printed, exit codes.

const KEY = 'vmcp_sk_test_0123456789abcdef';
const ADMIN = 'vmcp_admin_test_0123456789abcdef';
const env = { VMCP_API_KEY: KEY, VMCP_URL: 'http://gw.test' };

const log = (id: string, started_at: string, status = 'SUCCESS', tool_name = 'echo') => ({
  execution_id: id,
  tenant_id: 'ten_1',
  config_id: 'cfg_1',
  connection_name: 'upstream',
  connector: 'mcp',
  connected_account_id: 'ca_1',
  identifier: 'alice',
  tool_name,
  source: 'api',
  agent_run_id: null,
  status,
  error_code: null,
  error_message: null,
  duration_ms: status === 'STARTED' ? null : 12,
  started_at,
  finished_at: status === 'STARTED' ? null : started_at,
  arguments_size: null,
  arguments_sha256: null,
  result_size: null,
  result_sha256: null,
});

describe('keys', () => {
  it('rejects an --api-key flag as a usage error, without sending anything or echoing the value', async () => {
    const api = fakeApi(() => ({ body: {} }));
    for (const argv of [['connections', 'list', '--api-key', KEY], ['--api-key=' + KEY, 'connections', 'list'], ['tenants', 'list', '--admin-key=' + ADMIN]]) {
      const r = await runCli(argv, { env, fetch: api.fetch });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: USAGE: unknown option '--(api|admin)-key(=…)?'.*keys are never taken from arguments/);
      expect(r.stderr + r.stdout).not.toContain(KEY);
    }
    expect(api.requests).toHaveLength(0);
  });

  it('fails clearly with exit code 1 when there is no key, before any request', async () => {
    const api = fakeApi(() => ({ body: {} }));
    const tenant = await runCli(['connections', 'list'], { fetch: api.fetch });
    expect(tenant).toMatchObject({ code: 1, stdout: '', stderr: 'error: UNAUTHENTICATED: no API key: set VMCP_API_KEY or run "vmcp login"\n' });
    const admin = await runCli(['tenants', 'list'], { env: { VMCP_API_KEY: KEY }, fetch: api.fetch });
    expect(admin).toMatchObject({ code: 1, stderr: 'error: UNAUTHENTICATED: no admin key: set VMCP_ADMIN_KEY or run "vmcp login --admin"\n' });
    expect(api.requests).toHaveLength(0);
  });

  it('sends the tenant key as a bearer token and the admin key only to admin routes', async () => {
    const api = fakeApi((req) =>
      req.path === '/api/v1/tenants'
        ? { status: 201, body: { tenant: { id: 'ten_1', name: 'acme', created_at: '2025-06-01T00:00:00Z' }, api_key: 'vmcp_sk_new_tenant_key' } }
        : { body: { connections: [] } },
    );
    await runCli(['connections', 'list'], { env: { ...env, VMCP_ADMIN_KEY: ADMIN }, fetch: api.fetch });
    const created = await runCli(['tenants', 'create', 'acme'], { env: { ...env, VMCP_ADMIN_KEY: ADMIN }, fetch: api.fetch });
    expect(api.requests.map((r) => [r.method, `${r.origin}${r.path}`, r.headers.get('authorization')])).toEqual([
      ['GET', 'http://gw.test/api/v1/connections', `Bearer ${KEY}`],
      ['POST', 'http://gw.test/api/v1/tenants', `Bearer ${ADMIN}`],
    ]);
    expect(api.requests[0]!.headers.get('user-agent')).toMatch(/^vmcp-cli\/\d/);
    // The new tenant's key is shown (once); the keys in use never are.
    expect(created.stdout).toContain('api_key:    vmcp_sk_new_tenant_key');
    expect(created.stderr).toContain('shown only once');
    expect(created.stdout + created.stderr).not.toContain(ADMIN);
  });
});

describe('output', () => {
  it('prints a table by default and only the JSON reply with --json', async () => {
    const connections = [
      { id: 'conn_1', name: 'upstream', connector: 'mcp', auth_type: 'bearer_token', settings: { url: 'http://up/mcp' }, created_at: 't', updated_at: 't' },
    ];
    const api = fakeApi(() => ({ body: { connections } }));
    const table = await runCli(['connections', 'list'], { env, fetch: api.fetch });
    expect(table.stdout).toBe('NAME      CONNECTOR  AUTH_TYPE     ENDPOINT       ID\nupstream  mcp        bearer_token  http://up/mcp  conn_1\n');
    const json = await runCli(['connections', 'list', '--json'], { env, fetch: api.fetch });
    expect(JSON.parse(json.stdout)).toEqual({ connections });
    // --json also works before the command.
    expect(JSON.parse((await runCli(['--json', 'connections', 'list'], { env, fetch: api.fetch })).stdout)).toEqual({ connections });
  });

  it('prints an API error as "error: CODE: message" with exit code 1 and no stack', async () => {
    const api = fakeApi(() => apiError(404, 'NOT_FOUND', 'connection "nope" not found'));
    const r = await runCli(['connections', 'get', 'nope'], { env, fetch: api.fetch });
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'error: NOT_FOUND: GET /api/v1/connections/nope: connection "nope" not found\n' });
  });

  it('answers --help on every command with exit code 0, and a bare group with its help and exit code 2', async () => {
    for (const argv of [['--help'], ['logs', 'tail', '--help'], ['accounts', 'connect', '--help'], ['help', 'tokens']]) {
      const r = await runCli(argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: vmcp/);
    }
    const bare = await runCli(['tools']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^Usage: vmcp tools/);
  });
});

describe('connections create', () => {
  it('builds settings from --settings-json, --url, --base-url and --setting, with the gateway URL before the command', async () => {
    const api = fakeApi((req) => ({ status: 201, body: { connection: { id: 'conn_1', ...(req.body as object), created_at: 't', updated_at: 't' } } }));
    const r = await runCli(
      [
        '--url',
        'http://gateway.test',
        'connections',
        'create',
        'github',
        '--connector',
        'github',
        '--auth-type',
        'oauth2',
        '--settings-json',
        '{"timeout_ms": 1000, "oauth": {"client_id": "old"}}',
        '--url',
        'http://upstream.test/mcp',
        '--setting',
        'oauth.client_id=abc',
        '--setting',
        'oauth.scopes:=["repo"]',
        '--client-secret-stdin',
      ],
      { env: { VMCP_API_KEY: KEY }, stdin: 'client-secret-value\n', fetch: api.fetch },
    );
    expect(r.code).toBe(0);
    expect(api.requests[0]).toMatchObject({ origin: 'http://gateway.test', path: '/api/v1/connections' });
    expect(api.requests[0]!.body).toEqual({
      name: 'github',
      connector: 'github',
      auth_type: 'oauth2',
      settings: { timeout_ms: 1000, url: 'http://upstream.test/mcp', oauth: { client_id: 'abc', scopes: ['repo'], client_secret: 'client-secret-value' } },
    });
  });

  it('rejects an unknown auth type as a usage error', async () => {
    const r = await runCli(['connections', 'create', 'x', '--connector', 'mcp', '--auth-type', 'password'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: USAGE: option '--auth-type <type>' argument 'password' is invalid/);
  });
});

describe('accounts connect', () => {
  const account = { id: 'ca_1', connection_name: 'upstream', identifier: 'alice', auth_type: 'bearer_token', status: 'ACTIVE', created_at: 't', updated_at: 't' };

  it('reads the token from stdin, sends it as static_auth and never prints it', async () => {
    const api = fakeApi(() => ({ status: 201, body: { connected_account: account } }));
    const r = await runCli(['accounts', 'connect', '--connection', 'upstream', '--identifier', 'alice', '--token-stdin'], {
      env,
      stdin: 'upstream-secret-token\n',
      fetch: api.fetch,
    });
    expect(r.code).toBe(0);
    expect(api.requests[0]!.body).toEqual({ connection_name: 'upstream', identifier: 'alice', authorization_details: { static_auth: { token: 'upstream-secret-token' } } });
    expect(r.stdout).toContain('status:     ACTIVE');
    expect(r.stdout + r.stderr).not.toContain('upstream-secret-token');
  });

  it('reads basic credentials as user:password or two lines, and headers as JSON', async () => {
    const api = fakeApi(() => ({ status: 201, body: { connected_account: account } }));
    const base = ['accounts', 'connect', '--connection', 'c', '--identifier', 'alice'];
    await runCli([...base, '--basic-stdin'], { env, stdin: 'alice:pa:ss\n', fetch: api.fetch });
    await runCli([...base, '--basic-stdin'], { env, stdin: 'alice\npa:ss\n', fetch: api.fetch });
    await runCli([...base, '--api-key-stdin'], { env, stdin: 'k-123', fetch: api.fetch });
    await runCli([...base, '--headers-stdin'], { env, stdin: '{"X-Api-Token": "t1"}', fetch: api.fetch });
    expect(api.requests.map((r) => (r.body as { authorization_details: unknown }).authorization_details)).toEqual([
      { static_auth: { username: 'alice', password: 'pa:ss' } },
      { static_auth: { username: 'alice', password: 'pa:ss' } },
      { static_auth: { api_key: 'k-123' } },
      { static_auth: { headers: { 'X-Api-Token': 't1' } } },
    ]);
  });

  it('requires exactly one way in, and no secret on stdin is a usage error', async () => {
    const api = fakeApi(() => ({ body: {} }));
    const base = ['accounts', 'connect', '--connection', 'c', '--identifier', 'alice'];
    expect((await runCli(base, { env, fetch: api.fetch })).code).toBe(2);
    expect((await runCli([...base, '--token-stdin', '--auth-link'], { env, fetch: api.fetch })).code).toBe(2);
    const empty = await runCli([...base, '--token-stdin'], { env, stdin: '', fetch: api.fetch });
    expect(empty).toMatchObject({ code: 2, stderr: 'error: USAGE: no token given on stdin\n' });
    expect(api.requests).toHaveLength(0);
  });

  it('creates an authorization link with --auth-link', async () => {
    const api = fakeApi(() => ({ body: { link: 'http://gw.test/oauth/authorize?x', expires_at: 't', connected_account_id: 'ca_9' } }));
    const r = await runCli(['accounts', 'connect', '--connection', 'gh', '--identifier', 'alice', '--auth-link', '--redirect-url', 'https://app/done'], {
      env,
      fetch: api.fetch,
    });
    expect(api.requests[0]).toMatchObject({ path: '/api/v1/connected_accounts/authorization_link', body: { connection_name: 'gh', identifier: 'alice', redirect_url: 'https://app/done' } });
    expect(r.stdout).toContain('link:                 http://gw.test/oauth/authorize?x');
  });
});

describe('configs and tokens', () => {
  it('turns --tools into connection_tool_mappings', async () => {
    const api = fakeApi((req) => ({
      status: 201,
      body: {
        config: {
          id: 'cfg_1',
          description: null,
          audit: { capture_payloads: false },
          client_requests: { sampling: true, elicitation: true },
          ...(req.body as object),
          mcp_server_url: 'http://gw.test/mcp/cfg_1',
          created_at: 't',
          updated_at: 't',
        },
      },
    }));
    const r = await runCli(['configs', 'create', 'support', '--tools', 'upstream:echo,add', '--tools', 'docs:*', '--description', 'for support'], { env, fetch: api.fetch });
    expect(r.code).toBe(0);
    expect(api.requests[0]!.body).toEqual({
      name: 'support',
      description: 'for support',
      connection_tool_mappings: [
        { connection_name: 'upstream', tools: ['echo', 'add'] },
        { connection_name: 'docs', tools: ['*'] },
      ],
    });
    expect(r.stdout).toContain('tools:           upstream:echo,add docs:*');
    expect(r.stdout).toContain('audit:           sizes and digests');
    expect(r.stdout).toContain('client_requests: sampling elicitation');
    expect((await runCli(['configs', 'create', 'x'], { env, fetch: api.fetch })).code).toBe(2);

    const narrowed = await runCli(['configs', 'create', 'narrow', '--tools', 'docs:*', '--capture-payloads', '--no-sampling'], { env, fetch: api.fetch });
    expect(narrowed.code).toBe(0);
    expect(api.requests.at(-1)!.body).toEqual({
      name: 'narrow',
      connection_tool_mappings: [{ connection_name: 'docs', tools: ['*'] }],
      audit: { capture_payloads: true },
      client_requests: { sampling: false, elicitation: true },
    });
    expect(narrowed.stdout).toContain('audit:           arguments and results (redacted)');
    expect(narrowed.stdout).toContain('client_requests: elicitation');
  });

  it('mints a token and prints it with an SDK client snippet and an mcpServers entry', async () => {
    const api = fakeApi(() => ({ status: 201, body: { token: 'eyJ.session.token', token_id: 'tok_1', expires_at: '2025-06-01T13:00:00Z', mcp_server_url: 'http://gw.test/mcp/cfg_1' } }));
    const r = await runCli(['tokens', 'mint', 'cfg_1', '--identifier', 'alice', '--expiry', '600'], { env, fetch: api.fetch });
    expect(api.requests[0]).toMatchObject({ method: 'POST', path: '/api/v1/mcp/configs/cfg_1/tokens', body: { identifier: 'alice', expiry_seconds: 600 } });
    expect(r.stdout).toContain('token:          eyJ.session.token');
    expect(r.stdout).toContain("new StreamableHTTPClientTransport(new URL(\"http://gw.test/mcp/cfg_1\"), {");
    expect(r.stdout).toContain('requestInit: { headers: { Authorization: "Bearer eyJ.session.token" } }');
    const entry = JSON.parse(r.stdout.slice(r.stdout.lastIndexOf('{\n  "mcpServers"'))) as unknown;
    expect(entry).toEqual({ mcpServers: { vmcp: { type: 'http', url: 'http://gw.test/mcp/cfg_1', headers: { Authorization: 'Bearer eyJ.session.token' } } } });
    const json = await runCli(['tokens', 'mint', 'cfg_1', '--identifier', 'alice', '--json'], { env, fetch: api.fetch });
    expect(JSON.parse(json.stdout)).toMatchObject({ token: 'eyJ.session.token', token_id: 'tok_1' });
    expect((await runCli(['tokens', 'mint', 'cfg_1', '--identifier', 'alice', '--expiry', 'soon'], { env, fetch: api.fetch })).code).toBe(2);
  });
});

describe('tools scoped', () => {
  it("prints the user's tools, and warns on stderr of a connection whose tools could not be discovered", async () => {
    const api = fakeApi(() => ({
      body: {
        tools: [{ name: 'echo', connector: 'mcp', connection_name: 'up', description: 'Echoes', input_schema: { type: 'object' } }],
        unavailable: [{ connection_name: 'crm', code: 'DEADLINE_EXCEEDED', message: 'tools/list: no answer within 4750 ms' }],
      },
    }));
    const r = await runCli(['tools', 'scoped', '--config', 'cfg_1', '--identifier', 'alice'], { env, fetch: api.fetch });
    expect(r).toEqual({
      code: 0,
      stdout: 'NAME  CONNECTION  CONNECTOR  DESCRIPTION\necho  up          mcp        Echoes\n',
      stderr: 'warning: the tools of connection "crm" are missing: discovery failed (DEADLINE_EXCEEDED: tools/list: no answer within 4750 ms)\n',
    });
    expect(api.requests[0]).toMatchObject({ method: 'GET', path: '/api/v1/tools/scoped' });
    expect(Object.fromEntries(api.requests[0]!.query)).toEqual({ config_id: 'cfg_1', identifier: 'alice' });
  });
});

describe('tools run', () => {
  const result = (successful: boolean) => ({
    execution_id: 'exe_1',
    successful,
    data: successful ? { sum: 3 } : null,
    error: successful ? null : 'upstream says no',
    content: [{ type: 'text', text: successful ? '3' : 'upstream says no' }],
  });

  it('sends the call and prints the text result, the execution id on stderr', async () => {
    const api = fakeApi(() => ({ body: result(true) }));
    const r = await runCli(['tools', 'run', 'add', '--identifier', 'alice', '--config', 'cfg_1', '--params', '{"a": 1, "b": 2}', '--agent-run-id', 'run-7'], { env, fetch: api.fetch });
    expect(r).toEqual({ code: 0, stdout: '3\n', stderr: 'execution_id: exe_1\n' });
    expect(api.requests[0]).toMatchObject({ method: 'POST', path: '/api/v1/execute_tool', body: { tool_name: 'add', identifier: 'alice', config_id: 'cfg_1', params: { a: 1, b: 2 }, agent_run_id: 'run-7' } });
  });

  it('reads params from stdin with --params-file -', async () => {
    const api = fakeApi(() => ({ body: result(true) }));
    await runCli(['tools', 'run', 'add', '--identifier', 'alice', '--connection', 'upstream', '--params-file', '-'], { env, stdin: '{"a": 1, "b": 2}', fetch: api.fetch });
    expect(api.requests[0]!.body).toEqual({ tool_name: 'add', identifier: 'alice', connection_name: 'upstream', params: { a: 1, b: 2 } });
  });

  it('exits 1 when the tool reported an error', async () => {
    const api = fakeApi(() => ({ body: result(false) }));
    const r = await runCli(['tools', 'run', 'fail', '--identifier', 'alice', '--config', 'cfg_1'], { env, fetch: api.fetch });
    expect(r).toEqual({ code: 1, stdout: 'upstream says no\n', stderr: 'execution_id: exe_1\nerror: TOOL_ERROR: upstream says no\n' });
    const json = await runCli(['tools', 'run', 'fail', '--identifier', 'alice', '--config', 'cfg_1', '--json'], { env, fetch: api.fetch });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual(result(false));
  });

  it('rejects malformed params and a missing or double target with exit code 2, before any request', async () => {
    const api = fakeApi(() => ({ body: result(true) }));
    const base = ['tools', 'run', 'add', '--identifier', 'alice'];
    const bad = await runCli([...base, '--config', 'cfg_1', '--params', '{a: 1}'], { env, fetch: api.fetch });
    expect(bad).toMatchObject({ code: 2, stderr: 'error: USAGE: --params is not valid JSON (at character 1)\n' });
    expect((await runCli([...base, '--params', '{}'], { env, fetch: api.fetch })).code).toBe(2);
    expect((await runCli([...base, '--config', 'c', '--connection', 'x'], { env, fetch: api.fetch })).code).toBe(2);
    expect((await runCli([...base, '--config', 'c', '--params-file', '/nonexistent/params.json'], { env, fetch: api.fetch })).code).toBe(2);
    expect(api.requests).toHaveLength(0);
  });
});

describe('logs', () => {
  it('lists with filters, --since as a duration, and --limit across pages', async () => {
    const api = fakeApi((req) =>
      req.query.get('page_token')
        ? { body: { tool_call_logs: [log('exe_3', '2025-06-01T11:57:00Z')] } }
        : { body: { tool_call_logs: [log('exe_5', '2025-06-01T11:59:00Z'), log('exe_4', '2025-06-01T11:58:00Z')], next_page_token: 'p2' } },
    );
    const r = await runCli(['logs', 'list', '--identifier', 'alice', '--status', 'success', '--since', '15m', '--limit', '3', '--json'], {
      env,
      fetch: api.fetch,
      now: () => Date.parse('2025-06-01T12:00:00Z'),
    });
    expect(r.code).toBe(0);
    expect(Object.fromEntries(api.requests[0]!.query)).toEqual({ identifier: 'alice', status: 'SUCCESS', start_time: '2025-06-01T11:45:00.000Z', page_size: '3' });
    expect(Object.fromEntries(api.requests[1]!.query)).toMatchObject({ page_token: 'p2', page_size: '1' });
    expect((JSON.parse(r.stdout) as { tool_call_logs: { execution_id: string }[] }).tool_call_logs.map((e) => e.execution_id)).toEqual(['exe_5', 'exe_4', 'exe_3']);
    expect((await runCli(['logs', 'list', '--status', 'maybe'], { env, fetch: api.fetch })).code).toBe(2);
    expect((await runCli(['logs', 'list', '--since', 'last tuesday'], { env, fetch: api.fetch })).code).toBe(2);
  });

  it('tail prints each finished entry once, oldest first, and stops on the signal', async () => {
    // Each poll sees the listing as it is then; the running call finishes between polls.
    const polls = [
      [log('exe_old', '2025-06-01T11:59:00Z')],
      [log('exe_run', '2025-06-01T12:00:02Z', 'STARTED'), log('exe_b', '2025-06-01T12:00:01Z'), log('exe_old', '2025-06-01T11:59:00Z')],
      [log('exe_c', '2025-06-01T12:00:03Z', 'ERROR'), log('exe_run', '2025-06-01T12:00:02Z'), log('exe_b', '2025-06-01T12:00:01Z')],
    ];
    let n = 0;
    const seen: RecordedRequest[] = [];
    const api = fakeApi((req) => {
      seen.push(req);
      return { body: { tool_call_logs: polls[Math.min(n++, polls.length - 1)] } };
    });
    const stop = new AbortController();
    const r = await runCli(['logs', 'tail', '--interval', '100ms', '--tool', 'echo'], {
      env,
      fetch: api.fetch,
      signal: stop.signal,
      now: () => Date.parse('2025-06-01T12:00:00Z'),
      onStdout: (all) => {
        if (all.includes('exe_c')) stop.abort();
      },
    });
    expect(r.code).toBe(0);
    const ids = r.stdout.trim().split('\n').map((l) => /exe_\w+/.exec(l)![0]);
    // exe_old was there before the tail started; exe_run appears once, when it has finished.
    expect(ids).toEqual(['exe_b', 'exe_run', 'exe_c']);
    expect(r.stdout).toContain('2025-06-01T12:00:03Z  ERROR    echo  alice  upstream  12ms  exe_c');
    expect(seen[0]!.query.get('tool_name')).toBe('echo');
    expect(seen[0]!.query.get('start_time')).toBe('2025-06-01T11:58:00.000Z');
  });
});

describe('login', () => {
  it('stores the key from stdin in a 0600 file after checking it, and later commands use it', async () => {
    const home = isolatedEnv();
    const api = fakeApi((req) => (req.headers.get('authorization') === `Bearer ${KEY}` ? { body: { connections: [] } } : apiError(401, 'UNAUTHENTICATED', 'invalid API key')));
    const bad = await runCli(['login', '--url', 'http://gw.test'], { env: home, stdin: 'wrong-key-123456\n', fetch: api.fetch });
    expect(bad).toMatchObject({ code: 1, stderr: 'error: UNAUTHENTICATED: GET /api/v1/connections: invalid API key\n' });

    const r = await runCli(['login', '--url', 'http://gw.test', '--profile', 'prod'], { env: home, stdin: `${KEY}\n`, fetch: api.fetch });
    expect(r.code).toBe(0);
    const path = join(home.XDG_CONFIG_HOME!, 'vmcp', 'config.json');
    expect(r.stdout).toBe(`saved the API key for http://gw.test to profile "prod" in ${path}\n`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ profiles: { prod: { url: 'http://gw.test', api_key: KEY } } });

    const list = await runCli(['connections', 'list', '--profile', 'prod'], { env: home, fetch: api.fetch });
    expect(list).toMatchObject({ code: 0, stderr: '' });
    expect(api.requests.at(-1)!.headers.get('authorization')).toBe(`Bearer ${KEY}`);

    chmodSync(path, 0o644);
    const loose = await runCli(['connections', 'list'], { env: { ...home, VMCP_PROFILE: 'prod' }, fetch: api.fetch });
    expect(loose.code).toBe(0);
    expect(loose.stderr).toMatch(/^warning: .*config.json holds API keys and can be read by other users \(mode 644\)/);
    expect(loose.stderr + r.stdout + list.stdout).not.toContain(KEY);
  });
});
