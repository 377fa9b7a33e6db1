// `npm run conformance`: the MCP conformance suite against a gateway that is already
// running, as CI runs it through the stack it starts (apps/edge/test/conformance.e2e.spec.ts).
// The config must expose the suite's fixture tools unrenamed (see conformance/README.md):
//
//   VMCP_MCP_URL=http://127.0.0.1:8080/mcp/cfg_…  VMCP_SESSION_TOKEN=eyJ…  npm run conformance [-- 2025-11-25|2026-07-28]
//
// A loopback proxy adds the token (the suite cannot); results go to tmp/conformance/<revision>/.
import { bootstrap, build, ROOT } from './bootstrap.mjs';

bootstrap(new URL(import.meta.url).pathname);

const { rmSync } = await import('node:fs');
const { join } = await import('node:path');

const url = process.env.VMCP_MCP_URL;
const token = process.env.VMCP_SESSION_TOKEN;
if (!url || !token) {
  console.error('vmcp conformance: set VMCP_MCP_URL (a config\'s mcp_server_url) and VMCP_SESSION_TOKEN (a token minted for it)');
  process.exit(2);
}
const revisions = process.argv.slice(2).length ? process.argv.slice(2) : ['2025-11-25', '2026-07-28'];
const baselines = { '2025-11-25': 'baseline.yml', '2026-07-28': 'baseline-2026-07-28.yml' };
for (const r of revisions) {
  if (!(r in baselines)) {
    console.error(`vmcp conformance: unknown revision ${r} (one of ${Object.keys(baselines).join(', ')})`);
    process.exit(2);
  }
}

build();
const { runConformance, startBearerProxy } = await import(join(ROOT, 'libs', 'testing', 'dist', 'index.js'));
const target = new URL(url);
const proxy = await startBearerProxy(target.origin, token);
let failed = 0;
try {
  for (const requirements of revisions) {
    const outputDir = join(ROOT, 'tmp', 'conformance', requirements);
    rmSync(outputDir, { recursive: true, force: true });
    console.log(`\n== conformance --requirements ${requirements}`);
    const run = await runConformance({
      url: `${proxy.url}${target.pathname}`,
      requirements,
      expectedFailures: join(ROOT, 'conformance', baselines[requirements]),
      outputDir,
      timeoutMs: 10_000,
    });
    const summary = run.output.indexOf('=== SUMMARY');
    console.log(summary >= 0 ? run.output.slice(summary) : run.output);
    console.log(`checks: ${outputDir}`);
    if (run.exitCode !== 0) failed++;
  }
} finally {
  await proxy.close();
}
process.exit(failed ? 1 : 0);
