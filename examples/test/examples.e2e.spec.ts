import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  api,
  startNatsServer,
  startStack,
  startUpstreamMcpServer,
  waitFor,
  type ApiClient,
  type NatsServerHandle,
  type Stack,
  type UpstreamMcpServer,
} from '@vmcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as runLangChain } from '../langchain.ts';
import { run as runMcpSdk } from '../mcp-sdk-client.ts';
import { run as runOpenAiAgents } from '../openai-agents.ts';
import { run as runVercelAi } from '../vercel-ai.ts';

// Each framework example against the real gateway: five services on a private NATS, an
// upstream MCP server built with the SDK, one end user per framework with their own
// upstream credential, and a config that exposes some of the upstream's tools only.

const EXAMPLES_DIR = fileURLToPath(new URL('..', import.meta.url));
const PERMITTED = ['add', 'echo', 'whoami'];

type Run = typeof runMcpSdk;
interface Framework {
  readonly name: string;
  readonly file: string;
  readonly run: Run;
  /** What the framework's own tool object hands back for echo(text). */
  readonly expected: (text: string) => unknown;
  /** How the framework reports the gateway's 401 for a revoked token. */
  readonly refused: Record<string, unknown>;
}

const FRAMEWORKS: Framework[] = [
  {
    name: 'mcp-sdk',
    file: 'mcp-sdk-client.ts',
    run: runMcpSdk,
    expected: (text) => expect.objectContaining({ content: [{ type: 'text', text }] }),
    // StreamableHTTPError: the status is its code; the message carries vmcp's reply.
    refused: { code: 401, message: expect.stringContaining('token revoked') },
  },
  {
    name: 'langchain',
    file: 'langchain.ts',
    run: runLangChain,
    // A lone text block comes back as a plain string (content_and_artifact, content only).
    expected: (text) => text,
    // The adapter words a 401 (and only a 401) as "Authentication failed".
    refused: { name: 'MCPClientError', message: expect.stringMatching(/^Authentication failed for HTTP server "vmcp".*token revoked/s) },
  },
  {
    name: 'openai-agents',
    file: 'openai-agents.ts',
    run: runOpenAiAgents,
    // mcpToFunctionTool returns a single content block as the block itself.
    expected: (text) => ({ type: 'text', text }),
    // The MCP client v2 under the Agents SDK fails its version probe with the 401.
    refused: { code: 'CLIENT_HTTP_AUTHENTICATION', message: expect.stringContaining('requires authorization (HTTP 401)') },
  },
  {
    name: 'vercel-ai',
    file: 'vercel-ai.ts',
    run: runVercelAi,
    expected: (text) => expect.objectContaining({ content: [{ type: 'text', text }] }),
    refused: { name: 'MCPClientError', statusCode: 401, message: expect.stringMatching(/HTTP 401.*token revoked/) },
  },
];

interface AuditEntry {
  execution_id: string;
  status: string;
  source: string;
  tool_name: string;
  identifier: string;
  config_id: string;
  connection_name: string;
}

describe('framework examples on vmcp', () => {
  let nats: NatsServerHandle;
  let upstream: UpstreamMcpServer;
  let stack: Stack;
  let tenant: ApiClient;
  let apiKey: string;
  let configId: string;
  const secrets = new Map<string, string>();

  const mint = async (identifier: string) => {
    const r = await tenant.post(`/api/v1/mcp/configs/${configId}/tokens`, { identifier, expiry_seconds: 300 });
    expect(r.status).toBe(201);
    return r.body as { token: string; token_id: string; mcp_server_url: string };
  };
  const addUser = async (identifier: string) => {
    const secret = `${identifier}-upstream-secret-${randomBytes(6).toString('hex')}`;
    secrets.set(identifier, secret);
    const r = await tenant.post('/api/v1/connected_accounts', {
      connection_name: 'upstream',
      identifier,
      authorization_details: { static_auth: { token: secret } },
    });
    expect(r.status).toBe(201);
  };
  const auditOf = (identifier: string, count: number) =>
    waitFor(
      async () => {
        const r = await tenant.get(`/api/v1/tool_call_logs?identifier=${encodeURIComponent(identifier)}`);
        const entries = (r.body as { tool_call_logs: AuditEntry[] }).tool_call_logs;
        return entries.length === count && entries.every((e) => e.status !== 'STARTED') ? entries : undefined;
      },
      { timeoutMs: 5000, what: `${count} audit entries for ${identifier}` },
    );

  beforeAll(async () => {
    nats = await startNatsServer();
    upstream = await startUpstreamMcpServer();
    stack = await startStack({ natsUrl: nats.url, database: 'sqlite' });
    const admin = api(stack.baseUrl, stack.adminKey);
    const t = await admin.post('/api/v1/tenants', { name: 'examples' });
    expect(t.status).toBe(201);
    apiKey = (t.body as { api_key: string }).api_key;
    tenant = api(stack.baseUrl, apiKey);

    const c = await tenant.post('/api/v1/connections', {
      name: 'upstream',
      connector: 'mcp',
      auth_type: 'bearer_token',
      settings: { url: upstream.url },
    });
    expect(c.status).toBe(201);
    for (const f of FRAMEWORKS) {
      await addUser(`user-${f.name}`);
      await addUser(`cli-${f.name}`);
    }

    // The upstream also has image, fail and slow: this config does not expose them.
    const cfg = await tenant.post('/api/v1/mcp/configs', {
      name: 'examples',
      connection_tool_mappings: [{ connection_name: 'upstream', tools: PERMITTED }],
    });
    expect(cfg.status).toBe(201);
    configId = (cfg.body as { config: { id: string } }).config.id;
  });

  afterAll(async () => {
    await stack?.close();
    await upstream?.close();
    await nats?.stop();
  });

  describe.each(FRAMEWORKS)('$name', ({ name, run, expected, refused }) => {
    const identifier = `user-${name}`;

    it("lists only the permitted tools and calls one with the user's own credential", async () => {
      const session = await mint(identifier);
      const text = `hello from ${name}`;

      const { tools, result } = await run({ mcpServerUrl: session.mcp_server_url, token: session.token, toolName: 'echo', args: { text } });

      expect([...tools].sort()).toEqual(PERMITTED);
      expect(tools).not.toContain('image');
      expect(result).toEqual(expected(text));

      const calls = upstream.calls.filter((c) => c.tool === 'echo' && c.arguments.text === text);
      expect(calls).toHaveLength(1);
      expect(calls[0]!.headers.authorization).toBe(`Bearer ${secrets.get(identifier)}`);
      expect(JSON.stringify(calls[0]!.headers)).not.toContain(session.token);

      const [entry] = await auditOf(identifier, 1);
      expect(entry).toMatchObject({ status: 'SUCCESS', source: 'mcp', tool_name: 'echo', identifier, config_id: configId, connection_name: 'upstream' });
    });

    it('fails to connect with a revoked token, with a 401', async () => {
      const session = await mint(identifier);
      expect((await tenant.delete(`/api/v1/mcp/tokens/${session.token_id}`)).status).toBe(200);
      const before = upstream.calls.length;

      const error = await run({ mcpServerUrl: session.mcp_server_url, token: session.token, toolName: 'echo', args: { text: 'never' } }).then(
        () => undefined,
        (err: unknown) => err as Error,
      );

      expect(error, 'run() should reject').toBeInstanceOf(Error);
      expect(error).toMatchObject(refused);
      expect(upstream.calls.length).toBe(before);
    });
  });

  // The `main` path as a user runs it: plain Node (type stripping, real ESM resolution),
  // the token minted with @vmcp/sdk from the environment.
  it.each(FRAMEWORKS)('runs as a script: node examples/$file', async ({ name, file }) => {
    const identifier = `cli-${name}`;
    const text = `hello from the ${name} command line`;
    const child = spawn(process.execPath, [`${EXAMPLES_DIR}${file}`], {
      cwd: EXAMPLES_DIR,
      env: {
        PATH: process.env.PATH ?? '',
        VMCP_URL: stack.baseUrl,
        VMCP_API_KEY: apiKey,
        VMCP_CONFIG_ID: configId,
        VMCP_IDENTIFIER: identifier,
        VMCP_TOOL: 'echo',
        VMCP_TOOL_ARGS: JSON.stringify({ text }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    // On failure, what the services logged as warnings or errors says why (a discovery that timed out, …).
    expect(code, `${stderr}\n${stack.logs().filter((l) => /"level":"(warn|error|fatal)"/.test(l)).slice(-20).join('\n')}`).toBe(0);
    const listed = /^tools: (.*)$/m.exec(stdout)?.[1]?.split(', ');
    expect(listed?.sort()).toEqual(PERMITTED);
    expect(stdout).toContain(text);
    const calls = upstream.calls.filter((c) => c.tool === 'echo' && c.arguments.text === text);
    expect(calls.map((c) => c.headers.authorization)).toEqual([`Bearer ${secrets.get(identifier)}`]);
    const [entry] = await auditOf(identifier, 1);
    expect(entry).toMatchObject({ status: 'SUCCESS', tool_name: 'echo', identifier });
  });
});
