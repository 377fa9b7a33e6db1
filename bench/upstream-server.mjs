// The benchmark's upstream: the SDK fixture server in a process of its own, as an
// upstream MCP server would be. Prints its URL on the first line of stdout.
import { startUpstreamMcpServer } from '@vmcp/testing';

const upstream = await startUpstreamMcpServer({ record: false });
console.log(upstream.url);
process.on('SIGTERM', () => void upstream.close().then(() => process.exit(0)));
