// The images, checked from the Dockerfile's structure (no image is built here: that needs a
// Docker engine): a multi-stage build whose runtime stages run as a non-root user, hold only
// built output and production dependencies, and start the service the manifests expect; a
// build context that leaves out what is installed, built or secret on the host.
import { describe, expect, it } from 'vitest';
import { APPS, readRepoFile } from './k8s.js';

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name: string;
  instructions: Instruction[];
}

/** The Dockerfile's stages and their instructions (continuation lines joined, comments dropped). */
function stagesOf(text: string): { args: Instruction[]; stages: Stage[] } {
  const lines = text.split('\n').filter((l) => !/^\s*#/.test(l));
  const joined = lines.join('\n').replace(/\\\n/g, ' ');
  const instructions = joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [keyword, ...rest] = l.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    });
  const args: Instruction[] = [];
  const stages: Stage[] = [];
  for (const i of instructions) {
    if (i.keyword === 'FROM') {
      const [from, as, name] = i.args.split(/\s+/);
      if (as?.toUpperCase() !== 'AS' || !name) throw new Error(`Dockerfile: FROM ${i.args} does not name its stage`);
      stages.push({ from: from!, name: name!, instructions: [] });
    } else if (stages.length === 0) args.push(i);
    else stages.at(-1)!.instructions.push(i);
  }
  return { args, stages };
}

const { args, stages } = stagesOf(readRepoFile('Dockerfile'));
const stage = (name: string) => stages.find((s) => s.name === name)!;
/** The stage's instructions, its parents' included (FROM <another stage>). */
function effective(s: Stage): Instruction[] {
  const parent = stages.find((p) => p.name === s.from);
  return [...(parent ? effective(parent) : []), ...s.instructions];
}

describe('Dockerfile', () => {
  it('builds in one stage and runs from others, on the Node the project pins', () => {
    const pinned = (JSON.parse(readRepoFile('package.json')) as { devDependencies: Record<string, string> }).devDependencies.node;
    expect(args).toContainEqual({ keyword: 'ARG', args: `NODE_VERSION=${pinned}` });
    const build = stage('build');
    expect(build.from).toBe('node:${NODE_VERSION}-bookworm-slim');
    // The runtime runs the native addon compiled in the build stage: same base, same libc, same ABI.
    expect(stage('runtime').from).toBe(build.from);
    const run = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join(' && ');
    expect(run).toContain('npm ci');
    expect(run).toContain('tsc -b tsconfig.json');
    expect(run).toContain('npm prune --omit=dev');
    // What must not reach an image: sources, tests, build bookkeeping, the tests' helpers.
    expect(run).toMatch(/-name src -o -name test -o -name '\*\.tsbuildinfo'/);
    expect(run).toContain('rm -rf libs/testing');
  });

  it('has one target per service that runs its built main as a non-root user', () => {
    for (const app of APPS) {
      const s = stage(app);
      expect(s.from, app).toBe('runtime');
      const all = effective(s);
      const users = all.filter((i) => i.keyword === 'USER').map((i) => i.args);
      // Numeric, so that Kubernetes can verify runAsNonRoot; the last USER is the one that runs.
      expect(users.at(-1), app).toMatch(/^[1-9]\d*:[1-9]\d*$/);
      expect(all.filter((i) => i.keyword === 'ENTRYPOINT').at(-1)?.args).toBe('["node"]');
      expect(s.instructions.filter((i) => i.keyword === 'CMD').map((i) => i.args)).toEqual([`["apps/${app}/dist/main.js"]`]);
      // The manifests' pods run as the same user.
      expect(users.at(-1)).toBe('1000:1000');
    }
    expect(stages.map((s) => s.name).sort()).toEqual(['build', 'runtime', ...APPS].sort());
  });

  it('copies into the runtime images only the build output and production dependencies', () => {
    const allowed = (app?: string) => [
      '/src/package.json ./package.json',
      '/src/node_modules ./node_modules',
      '/src/libs ./libs',
      ...(app ? [`/src/apps/${app} ./apps/${app}`] : []),
    ];
    const check = (s: Stage, app?: string) => {
      for (const i of s.instructions) {
        expect(['ADD', 'RUN'], `${s.name}: ${i.keyword} ${i.args}`).not.toContain(i.keyword);
        if (i.keyword !== 'COPY') continue;
        const m = /^--from=build (.+)$/.exec(i.args);
        expect(m, `${s.name}: COPY ${i.args} is not from the build stage`).not.toBeNull();
        expect(allowed(app), `${s.name}: COPY ${i.args}`).toContain(m![1]);
      }
    };
    check(stage('runtime'));
    for (const app of APPS) check(stage(app), app);
  });
});

describe('.dockerignore', () => {
  const entries = readRepoFile('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('keeps host installs, build output, VCS data, local secrets and tests out of the build context', () => {
    for (const entry of ['node_modules', '**/node_modules', '**/dist', '**/*.tsbuildinfo', '.git', '.vmcp', '**/.vmcp', '.env', '.env.*', '**/*.spec.ts', 'apps/*/test', 'tmp', 'coverage']) {
      expect(entries, entry).toContain(entry);
    }
  });

  it('keeps what the build needs in it', () => {
    const needed = ['package.json', 'package-lock.json', '.npmrc', 'scripts', 'tsconfig.json', 'tsconfig.base.json', 'apps', 'libs', 'packages', 'examples'];
    // Every workspace's package.json must reach `npm ci` (libs/testing too: it is one).
    expect(entries.filter((e) => needed.some((n) => e === n || e === `${n}/` || e === `/${n}`))).toEqual([]);
    expect(entries.filter((e) => e.startsWith('!'))).toEqual([]);
  });
});
