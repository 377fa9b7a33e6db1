// The manifests and the code agree: every service gets, from a ConfigMap or a Secret, each
// variable it needs to start in production and none that it does not read; it listens where
// the probes and Services look; the probe paths are the ones the code serves; the images are
// the Dockerfile's targets; the NATS users are the permission file's; the shutdown budgets
// cover the services' own drain. The lists come from the code (libs/config, the apps), not
// from a second list kept here.
import { ENV_VARIABLES, loadConfig, type VmcpConfig } from '@vmcp/config';
import { api } from '@vmcp/contracts';
import { portOf, serveHealth } from '@vmcp/runtime';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  APPS,
  BASE,
  baseObjects,
  containerEnv,
  find,
  kustomization,
  KUBECTL,
  OVERLAYS,
  overlayDir,
  portNumber,
  readRepoFile,
  render,
  ROOT,
  unsuffixed,
  type App,
  type Container,
  type EnvSource,
  type K8sObject,
  type Workload,
} from './k8s.js';

const SETS: Array<[string, () => K8sObject[]]> = [
  ['base (files on disk)', baseObjects],
  ...OVERLAYS.map((o): [string, () => K8sObject[]] => [KUBECTL ? `overlays/${o}` : `overlays/${o} (skipped: kubectl is not on this machine)`, () => render(overlayDir(o))]),
];
const skipped = (set: string) => !KUBECTL && !set.startsWith('base');

/** Sources of one app's TypeScript, tests left out. */
function appSources(app: App): string[] {
  const dir = join(ROOT, 'apps', app, 'src');
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
    .map((f) => readFileSync(join(dir, f), 'utf8'));
}

/** The apps with tables: the ones whose code uses the persistence lib. */
const WITH_DATABASE = new Set(APPS.filter((app) => appSources(app).some((s) => s.includes(`from '@vmcp/persistence'`))));
/** Bus services start through runBusService (health server on their health port); the edge serves health on its HTTP port. */
const BUS_SERVICES = new Set(APPS.filter((app) => readRepoFile(`apps/${app}/src/main.ts`).includes('runBusService(')));

/** Stand-ins for Secrets the operator creates (base, prod): valid values of the right shape. */
const PLACEHOLDERS: Record<string, string> = {
  NATS_PASSWORD: `p${randomBytes(12).toString('hex')}`,
  DATABASE_URL: 'postgres://vmcp:placeholder@db.invalid:5432/vmcp',
  VMCP_ADMIN_KEY: `vmcp_admin_${randomBytes(18).toString('hex')}`,
  VMCP_MASTER_KEY: randomBytes(32).toString('base64'),
  VMCP_METRICS_TOKEN: randomBytes(16).toString('hex'),
};

const scratch = mkdtempSync(join(tmpdir(), 'vmcp-infra-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * Starts the service's configuration from the container's environment as Kubernetes would
 * build it: ConfigMap values as they are, Secret values from the overlay's generated Secrets
 * or placeholders, an optional absent Secret left out, a file from a mounted Secret written to
 * a scratch file. Returns the parsed configuration (loadConfig throws on anything missing).
 */
function startConfig(app: App, container: Container, pod: Workload['spec']['template']['spec'], objects: K8sObject[]): { config: VmcpConfig; env: Map<string, EnvSource> } {
  const sources = containerEnv(container, objects);
  const env: Record<string, string> = {};
  for (const [name, source] of sources) {
    if (source.from === 'value' || source.from === 'configMap') env[name] = source.value;
    else if (source.from === 'secret') {
      const value = source.value ?? (source.optional ? undefined : PLACEHOLDERS[name]);
      if (value === undefined && !source.optional) throw new Error(`${app}: no placeholder for the secret variable ${name}`);
      if (value !== undefined) env[name] = value;
    } else throw new Error(`${app}: ${name} from ${source.fieldPath}: vmcp reads none of the downward API`);
  }
  // A *_FILE variable names a file of a mounted Secret: the mount must provide that very path.
  for (const [name, path] of Object.entries(env).filter(([n]) => n.endsWith('_FILE'))) {
    const mount = container.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
    const volume = pod.volumes?.find((v) => v.name === mount?.name);
    const item = volume?.secret?.items?.find((i) => `${mount!.mountPath}/${i.path}` === path);
    if (!volume?.secret || !item) throw new Error(`${app}: ${name}=${path} is not a file of a mounted Secret`);
    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === volume.secret!.secretName) as (K8sObject & { data: Record<string, string> }) | undefined;
    const value = secret ? Buffer.from(secret.data[item.key]!, 'base64').toString('utf8') : PLACEHOLDERS[name.replace(/_FILE$/, '')]!;
    const file = join(scratch, `${app}-${name}-${randomBytes(4).toString('hex')}`);
    writeFileSync(file, value, { mode: 0o600 });
    env[name] = file;
  }
  return { config: loadConfig(app, env), env: sources };
}

function appContainer(objects: K8sObject[], app: App) {
  const workload = find<Workload>(objects, 'Deployment', app);
  return { workload, pod: workload.spec.template.spec, container: workload.spec.template.spec.containers.find((c) => c.name === app)! };
}

describe('environment', () => {
  for (const [set, load] of SETS) {
    it.skipIf(skipped(set))(`${set}: each service starts in production from what the manifests give it, and reads every variable given`, () => {
      const objects = load();
      for (const app of APPS) {
        const { pod, container } = appContainer(objects, app);
        const { config, env } = startConfig(app, container, pod, objects);
        const unknown = [...env.keys()].filter((name) => !ENV_VARIABLES.includes(name));
        expect(unknown, `${app}: variables vmcp does not read`).toEqual([]);
        expect(config.env, app).toBe('production');
        // The permission file admits only its users: each service under its own name.
        expect(config.nats.user, app).toBe(app);
        expect(env.get('NATS_PASSWORD'), app).toMatchObject({ from: 'secret', key: app });
        expect(config.database.kind, `${app} database`).toBe(WITH_DATABASE.has(app) ? 'postgres' : 'sqlite');
        if (WITH_DATABASE.has(app)) expect(env.get('DATABASE_URL'), app).toMatchObject({ from: 'secret', key: app });
        // Not loopback: the kubelet's probes and the Services reach the pod's own address.
        expect(['0.0.0.0', '::'], `${app} VMCP_HTTP_HOST`).toContain(config.http.host);
      }
      expect(WITH_DATABASE).toEqual(new Set(['policy', 'vault', 'audit']));
    });
  }

  it('every variable libs/config reads is one it declares (the list the checks above use)', () => {
    expect(ENV_VARIABLES).toContain('NATS_PASSWORD');
    expect(ENV_VARIABLES).toContain('VMCP_MASTER_KEY_FILE');
    expect(new Set(ENV_VARIABLES).size).toBe(ENV_VARIABLES.length);
  });
});

describe('JetStream replicas', () => {
  for (const [set, load] of SETS) {
    it.skipIf(skipped(set))(`${set}: streams and buckets keep a quorum while the disruption budget lets a NATS node go, on no more nodes than there are`, () => {
      const objects = load();
      const nodes = find<Workload>(objects, 'StatefulSet', 'nats').spec.replicas!;
      const budget = find<K8sObject & { spec: { maxUnavailable: number } }>(objects, 'PodDisruptionBudget', 'nats').spec.maxUnavailable;
      // Several services create the same stream (the edge and audit make AUDIT): they must agree.
      const replicas = new Set(APPS.map((app) => {
        const { pod, container } = appContainer(objects, app);
        return startConfig(app, container, pod, objects).config.jetstreamReplicas;
      }));
      expect(replicas.size).toBe(1);
      const [r] = [...replicas];
      // A stream of r replicas stays writable with a majority of them up; JetStream refuses more replicas than nodes.
      expect(r! - budget).toBeGreaterThan(r! / 2);
      expect(r).toBeLessThanOrEqual(nodes);
    });
  }
});

describe('ports and probes', () => {
  for (const [set, load] of SETS) {
    it.skipIf(skipped(set))(`${set}: each service listens where its probes, container port and Service look`, () => {
      const objects = load();
      for (const app of APPS) {
        const { pod, container } = appContainer(objects, app);
        const { config } = startConfig(app, container, pod, objects);
        const port = BUS_SERVICES.has(app) ? config.healthPort : config.http.port;
        const name = BUS_SERVICES.has(app) ? 'health' : 'http';
        expect(portNumber(container, name), `${app} container port ${name}`).toBe(port);
        for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
          expect(portNumber(container, probe!.httpGet!.port), `${app} probe port`).toBe(port);
        }
        const service = find<K8sObject & { spec: { selector: Record<string, string>; ports: Array<{ port: number; targetPort: string }> } }>(objects, 'Service', app);
        expect(service.spec.selector).toEqual({ 'app.kubernetes.io/name': app });
        expect(service.spec.ports.map((p) => [p.port, portNumber(container, p.targetPort)])).toEqual([[port, port]]);
      }
    });
  }

  it('the edge serves its probe paths without authentication (the API contract)', () => {
    const { container } = appContainer(baseObjects(), 'edge');
    const open = api.API_ROUTES.filter((r) => r.method === 'get' && r.auth === 'none').map((r) => r.path);
    for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) expect(open).toContain(probe!.httpGet!.path);
    expect(container.readinessProbe!.httpGet!.path).toBe('/readyz');
  });

  it('the bus services answer their probe paths: the runtime health server, asked over HTTP', async () => {
    const server = await serveHealth('127.0.0.1', 0, { nats: async () => true });
    try {
      for (const app of [...BUS_SERVICES]) {
        const { container } = appContainer(baseObjects(), app);
        for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
          const res = await fetch(`http://127.0.0.1:${portOf(server)}${probe!.httpGet!.path}`);
          expect(res.status, `${app} ${probe!.httpGet!.path}`).toBe(200);
        }
      }
    } finally {
      server.close();
    }
    expect(BUS_SERVICES).toEqual(new Set(['policy', 'vault', 'executor', 'audit']));
  });

  it('the nats-server ports and probes are the ones nats.conf configures, and NATS_URL names its Service', () => {
    const objects = baseObjects();
    const conf = readRepoFile('infra/k8s/base/nats/nats.conf');
    const nats = find<Workload>(objects, 'StatefulSet', 'nats');
    const c = nats.spec.template.spec.containers[0]!;
    expect(portNumber(c, 'client')).toBe(Number(/^listen: 0\.0\.0\.0:(\d+)/m.exec(conf)![1]));
    expect(portNumber(c, 'monitor')).toBe(Number(/^http: 0\.0\.0\.0:(\d+)/m.exec(conf)![1]));
    expect(portNumber(c, 'cluster')).toBe(Number(/^\s+listen: 0\.0\.0\.0:(\d+)/m.exec(conf)![1]));
    for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) expect(probe!.httpGet!.port).toBe('monitor');
    // One route per node, through the headless Service that the StatefulSet names.
    const routes = [...conf.matchAll(/nats:\/\/([\w-]+)\.([\w-]+):(\d+)/g)];
    expect(routes.map((r) => r[1])).toEqual(Array.from({ length: nats.spec.replicas! }, (_, i) => `nats-${i}`));
    expect(new Set(routes.map((r) => `${r[2]}:${r[3]}`))).toEqual(new Set([`${nats.spec.serviceName}:${portNumber(c, 'cluster')}`]));
    expect(readRepoFile('infra/k8s/base/config.env')).toMatch(new RegExp(`^NATS_URL=nats://nats:${portNumber(c, 'client')}$`, 'm'));
    expect(c.image).toMatch(/^nats:\d+\.\d+\.\d+-alpine$/);
  });
});

/**
 * NATS users no vmcp app connects as: the internal clients of the public bus API
 * (docs/bus-api.md) and the SREs' JetStream administration (infra/README.md).
 */
const INTERNAL_USER = 'internal';
const OPERATOR_USER = 'operator';
const OUTSIDE_USERS: readonly string[] = [INTERNAL_USER, OPERATOR_USER];

describe('NATS users', () => {
  const permissions = readRepoFile('infra/k8s/base/nats/permissions.conf');
  const users = [...permissions.matchAll(/user:\s*(\w+)\s*\n\s*password:\s*\$(\w+)/g)].map((m) => ({ user: m[1]!, variable: m[2]! }));

  it('the permission file has one user per service, the internal clients\' user of the bus API and the operators\'', () => {
    expect(users.map((u) => u.user).sort()).toEqual([...APPS, ...OUTSIDE_USERS].sort());
  });

  for (const [set, load] of SETS) {
    it.skipIf(skipped(set))(`${set}: nats-server runs with that very file and the passwords the services connect with`, () => {
      const objects = load();
      const nats = find<Workload>(objects, 'StatefulSet', 'nats');
      const c = nats.spec.template.spec.containers[0]!;
      const env = containerEnv(c, objects);
      for (const { user, variable } of users) {
        const server = env.get(variable);
        expect(server, variable).toMatchObject({ from: 'secret' });
        // nats-server reads a value like a config token: it must start with a letter (infra/README.md).
        if (server?.from === 'secret' && server.value !== undefined) expect(server.value, variable).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
        // The internal clients (the tenant's own services) and the operators run outside vmcp: only the server's side is here.
        if (OUTSIDE_USERS.includes(user)) {
          expect(server, variable).toMatchObject({ secret: expect.stringMatching(/^vmcp-nats-users/), key: user });
          continue;
        }
        const client = containerEnv(appContainer(objects, user as App).container, objects).get('NATS_PASSWORD');
        expect(client, user).toMatchObject({ from: 'secret' });
        const ref = (s: EnvSource | undefined) => (s?.from === 'secret' ? [unsuffixed(objects, s.secret), s.key] : []);
        expect(ref(client), user).toEqual(ref(server));
      }
      const volume = nats.spec.template.spec.volumes!.find((v) => v.configMap)!;
      const config = find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', volume.configMap!.name);
      expect(config.data['permissions.conf']).toBe(permissions);
      expect(config.data['nats.conf']).toContain('include ./permissions.conf');
      expect(c.command).toEqual(['nats-server', '--config', `${c.volumeMounts!.find((m) => m.name === volume.name)!.mountPath}/nats.conf`]);
    });
  }
});

describe('images', () => {
  const dockerfile = readRepoFile('Dockerfile');
  const version = (JSON.parse(readRepoFile('package.json')) as { version: string }).version;

  it('each service runs the image the Dockerfile builds for it, tagged with the version in package.json', () => {
    const images = kustomization(BASE).images ?? [];
    for (const app of APPS) {
      const { container } = appContainer(baseObjects(), app);
      expect(container.image).toBe(`vmcp/${app}`);
      expect(container.command ?? container.args).toBeUndefined();
      expect(images.find((i) => i.name === `vmcp/${app}`)?.newTag).toBe(version);
      const stage = new RegExp(`^FROM runtime AS ${app}\\n((?:(?!FROM ).*\\n)*)`, 'm').exec(dockerfile);
      expect(stage, `Dockerfile target ${app}`).not.toBeNull();
      const main = (JSON.parse(readRepoFile(`apps/${app}/package.json`)) as { main: string }).main.replace(/^\.\//, '');
      expect(stage![1]).toContain(`CMD ["apps/${app}/${main}"]`);
      expect(stage![1]).toContain(`EXPOSE ${portNumber(container, container.ports![0]!.name!)}`);
    }
  });

  for (const [set, load] of SETS.slice(1)) {
    it.skipIf(skipped(set))(`${set}: images carry the version tag`, () => {
      for (const app of APPS) expect(appContainer(load(), app).container.image).toMatch(new RegExp(`(^|/)vmcp/${app}:${version.replace(/\./g, '\\.')}$`));
    });
  }
});

describe('graceful shutdown', () => {
  it("the bus services' NATS server waits for requests in flight as long as the configuration says", () => {
    // The bound the checks below read from the configuration is the one the runtime gives the server.
    expect(readRepoFile('libs/runtime/src/bootstrap.ts')).toMatch(/new VmcpNatsServer\([^;]*\{ drainTimeoutMs: core\.config\.drainTimeoutMs \}\)/);
  });

  for (const [set, load] of SETS) {
    it.skipIf(skipped(set))(`${set}: each pod's termination grace period covers its preStop and the service's drain`, () => {
      const objects = load();
      for (const app of APPS) {
        const { pod, container } = appContainer(objects, app);
        const { config } = startConfig(app, container, pod, objects);
        const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
        // The longest the work in flight may take once the service stops taking more
        // (libs/config: a tool call for the edge and the executor, a bus timeout for the
        // others), plus a few seconds for the shutdown hooks.
        expect(pod.terminationGracePeriodSeconds, app).toBeGreaterThanOrEqual(preStop + Math.ceil(config.drainTimeoutMs / 1000) + 5);
        // The edge keeps answering while the Ingress and the endpoints forget it.
        if (app === 'edge') expect(preStop).toBeGreaterThanOrEqual(5);
      }
      const nats = find<Workload>(objects, 'StatefulSet', 'nats').spec.template.spec;
      const conf = readRepoFile('infra/k8s/base/nats/nats.conf');
      const seconds = (key: string) => Number(new RegExp(`^${key}: (\\d+)s$`, 'm').exec(conf)![1]);
      expect(nats.terminationGracePeriodSeconds).toBeGreaterThan(seconds('lame_duck_duration') + seconds('lame_duck_grace_period'));
      expect(nats.containers[0]!.lifecycle?.preStop?.exec?.command).toEqual(['nats-server', '--signal', `ldm=${/^pid_file: (.+)$/m.exec(conf)![1]}`]);
    });
  }
});
