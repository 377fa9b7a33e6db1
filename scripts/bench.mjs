// `npm run bench`: builds, then runs every benchmark in bench/ on the pinned Node.
import { bootstrap, build, ROOT, run } from './bootstrap.mjs';

bootstrap(new URL(import.meta.url).pathname);
build();
const { join } = await import('node:path');
process.exit(run(process.execPath, [join(ROOT, 'bench', 'tools-call.bench.mjs')]));
