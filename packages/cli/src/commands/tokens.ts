import type { Command } from 'commander';
import { leaf, session, type RunContext } from '../context.js';
import { printFields, printJson } from '../output.js';
import { parsePositiveInt } from '../parse.js';

/** Session tokens: what an agent presents at a config's MCP URL, for one identifier. */
export function registerTokens(program: Command, ctx: RunContext): void {
  const tokens = program.command('tokens').description("MCP session tokens for a config's MCP URL");

  leaf(tokens, 'mint <config_id>', 'mint a session token for one user of a config, with a ready-to-paste MCP client snippet')
    .requiredOption('--identifier <id>', 'the user the agent acts for')
    .option('--expiry <seconds>', 'lifetime in seconds (60 to 86400, default 3600)')
    .action(async (configId: string, o: { identifier: string; expiry?: string }, cmd: Command) => {
      const s = session(ctx, cmd);
      const expiry_seconds = o.expiry !== undefined ? parsePositiveInt(o.expiry, '--expiry') : undefined;
      const reply = await s.client().configs.mintToken(configId, { identifier: o.identifier, ...(expiry_seconds ? { expiry_seconds } : {}) });
      if (s.json) return printJson(s.io, reply);
      printFields(s.io, [
        ['token', reply.token],
        ['token_id', reply.token_id],
        ['expires_at', reply.expires_at],
        ['mcp_server_url', reply.mcp_server_url],
      ]);
      s.io.stdout.write(`\n${clientSnippets(reply)}`);
    });

  leaf(tokens, 'revoke <token_id>', 'revoke a session token at once').action(async (tokenId: string, _o: unknown, cmd: Command) => {
    const s = session(ctx, cmd);
    const reply = await s.client().tokens.revoke(tokenId);
    if (s.json) return printJson(s.io, reply);
    s.io.stdout.write(`revoked token ${reply.token_id}\n`);
  });
}

/**
 * How to use a minted token: the official TypeScript SDK client, and an `mcpServers`
 * entry for desktop clients that speak Streamable HTTP.
 */
export function clientSnippets({ token, mcp_server_url }: { token: string; mcp_server_url: string }): string {
  const desktop = { mcpServers: { vmcp: { type: 'http', url: mcp_server_url, headers: { Authorization: `Bearer ${token}` } } } };
  return `# TypeScript, with @modelcontextprotocol/sdk
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const client = new Client({ name: 'my-agent', version: '1.0.0' });
await client.connect(
  new StreamableHTTPClientTransport(new URL(${JSON.stringify(mcp_server_url)}), {
    requestInit: { headers: { Authorization: ${JSON.stringify(`Bearer ${token}`)} } },
  }),
);
console.log((await client.listTools()).tools.map((t) => t.name));

# mcpServers entry for desktop clients (Claude Code .mcp.json, Cursor, …)
${JSON.stringify(desktop, null, 2)}
`;
}
