// The peers benchmark's upstream over stdio: the same `echo` tool as the HTTP fixture
// (libs/testing's startUpstreamMcpServer), served with the SDK's StdioServerTransport, for
// gateways that wrap a stdio command (mcp-proxy, supergateway).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'upstream-fixture', version: '1.0.0' });
server.registerTool(
  'echo',
  { description: 'Echo the text back', inputSchema: { text: z.string() }, annotations: { readOnlyHint: true } },
  async ({ text }) => ({ content: [{ type: 'text', text }] }),
);
await server.connect(new StdioServerTransport());
