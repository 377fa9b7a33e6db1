// `npm run bench`: builds, then runs every benchmark in bench/ on the pinned Node.
import { bootstrap, build, ROOT, run } from './bootstrap.mjs';

bootstrap(new URL(import.meta.url).pathname);
build();
const { join } = await import('node:path');
let failed = 0;
for (const bench of ['tools-call.bench.mjs', 'cpu-per-call.bench.mjs', 'plain-call.bench.mjs', 'writes-per-call.bench.mjs', 'profile-services.mjs', 'peers.bench.mjs', 'credential-resolve.bench.mjs', 'audit-ingest.bench.mjs']) {
  console.log(`\n== ${bench}`);
  if (run(process.execPath, [join(ROOT, 'bench', bench)]) !== 0) failed++;
}
process.exit(failed ? 1 : 0);
