// What an SRE relies on when applying the manifests: hardened pods, every workload scaled
// and protected on its own, and a network where each pod reaches only what it needs. Checked
// on the base as it is on disk, and on each overlay as kustomize renders it.
import { describe, expect, it } from 'vitest';
import {
  APPS,
  baseObjects,
  find,
  isWorkload,
  KUBECTL,
  OVERLAYS,
  overlayDir,
  quantity,
  render,
  selects,
  type K8sObject,
  type LabelSelector,
  type Workload,
} from './k8s.js';

const SETS: Array<[string, () => K8sObject[]]> = [
  ['base (files on disk)', baseObjects],
  ...OVERLAYS.map((o): [string, () => K8sObject[]] => [KUBECTL ? `overlays/${o}` : `overlays/${o} (skipped: kubectl is not on this machine)`, () => render(overlayDir(o))]),
];

/** Runs on the base always, on the rendered overlays where kubectl is. */
function eachSet(name: string, check: (objects: K8sObject[], set: string) => void) {
  for (const [set, load] of SETS) {
    it.skipIf(!KUBECTL && !set.startsWith('base'))(`${set}: ${name}`, () => check(load(), set));
  }
}

const workloads = (objects: K8sObject[]) => objects.filter(isWorkload);
const labelsOf = (w: Workload) => w.spec.template.metadata.labels;

describe('pods', () => {
  eachSet('every pod runs as non-root, read-only, without capabilities, under RuntimeDefault seccomp', (objects) => {
    const problems: string[] = [];
    for (const w of workloads(objects)) {
      const pod = w.spec.template.spec;
      const id = `${w.kind} ${w.metadata.name}`;
      if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${id}: pod runAsNonRoot`);
      if (!pod.securityContext?.runAsUser) problems.push(`${id}: pod runAsUser (numeric, non-zero)`);
      if (pod.securityContext?.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${id}: seccompProfile RuntimeDefault`);
      for (const c of pod.containers) {
        const sc = c.securityContext ?? {};
        if (sc.runAsNonRoot !== true) problems.push(`${id}/${c.name}: runAsNonRoot`);
        if (sc.readOnlyRootFilesystem !== true) problems.push(`${id}/${c.name}: readOnlyRootFilesystem`);
        if (sc.allowPrivilegeEscalation !== false) problems.push(`${id}/${c.name}: allowPrivilegeEscalation false`);
        if (sc.privileged) problems.push(`${id}/${c.name}: privileged`);
        if (!sc.capabilities?.drop?.includes('ALL')) problems.push(`${id}/${c.name}: drop ALL capabilities`);
        if (sc.capabilities?.add?.length) problems.push(`${id}/${c.name}: adds capabilities`);
      }
    }
    expect(problems).toEqual([]);
  });

  eachSet('every pod has its own ServiceAccount and no API token mounted', (objects) => {
    const problems: string[] = [];
    const accounts = new Set<string>();
    for (const w of workloads(objects)) {
      const pod = w.spec.template.spec;
      const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === pod.serviceAccountName);
      if (!sa) problems.push(`${w.metadata.name}: no ServiceAccount ${pod.serviceAccountName}`);
      else if (sa.automountServiceAccountToken !== false) problems.push(`ServiceAccount ${sa.metadata.name} mounts a token`);
      if (pod.automountServiceAccountToken !== false) problems.push(`${w.metadata.name}: pod mounts a token`);
      if (accounts.has(pod.serviceAccountName ?? '')) problems.push(`${w.metadata.name}: shares ServiceAccount ${pod.serviceAccountName}`);
      accounts.add(pod.serviceAccountName ?? '');
    }
    expect(problems).toEqual([]);
  });

  eachSet('every container has resource requests and limits (limits at least the requests), probes, and a pinned image', (objects) => {
    const problems: string[] = [];
    for (const w of workloads(objects)) {
      for (const c of w.spec.template.spec.containers) {
        const id = `${w.metadata.name}/${c.name}`;
        for (const r of ['cpu', 'memory']) {
          const request = c.resources?.requests?.[r];
          const limit = c.resources?.limits?.[r];
          if (!request || !limit) problems.push(`${id}: ${r} request and limit`);
          else if (quantity(limit) < quantity(request)) problems.push(`${id}: ${r} limit below request`);
        }
        if (!c.readinessProbe || !c.livenessProbe) problems.push(`${id}: readiness and liveness probes`);
        // Liveness must not depend on other services: a dead dependency would restart every pod.
        if (c.livenessProbe?.httpGet?.path.startsWith('/readyz')) problems.push(`${id}: liveness on /readyz`);
        // The base leaves vmcp's tags to its `images:` (checked with the code); nothing floats.
        if (/:latest$/.test(c.image) || (!c.image.startsWith('vmcp/') && !/:[\w.-]+$/.test(c.image))) problems.push(`${id}: image ${c.image} not pinned`);
      }
    }
    expect(problems).toEqual([]);
  });

  eachSet('no secret is inlined: credentials come from Secrets', (objects) => {
    const secretLike = /PASSWORD|SECRET|TOKEN|_KEY(_PREVIOUS)?$|DATABASE_URL/;
    const inlined = workloads(objects).flatMap((w) =>
      w.spec.template.spec.containers.flatMap((c) => (c.env ?? []).filter((e) => secretLike.test(e.name) && e.value !== undefined).map((e) => `${w.metadata.name}/${e.name}`)),
    );
    expect(inlined).toEqual([]);
    const configs = objects.filter((o) => o.kind === 'ConfigMap').flatMap((o) => Object.keys((o.data as Record<string, string>) ?? {}).filter((k) => secretLike.test(k)));
    expect(configs).toEqual([]);
  });

  eachSet('pods spread over zones and nodes', (objects) => {
    const problems = workloads(objects)
      .filter((w) => w.metadata.name !== 'postgres')
      .flatMap((w) => {
        const keys = (w.spec.template.spec.topologySpreadConstraints ?? [])
          .filter((t) => selects(t.labelSelector, labelsOf(w)))
          .map((t) => t.topologyKey);
        return ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'].filter((k) => !keys.includes(k)).map((k) => `${w.metadata.name}: ${k}`);
      });
    expect(problems).toEqual([]);
  });
});

describe('scaling', () => {
  eachSet('every workload has a PodDisruptionBudget that lets at most one pod go at a time', (objects) => {
    const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget') as Array<K8sObject & { spec: { selector: LabelSelector; maxUnavailable?: number } }>;
    const problems = workloads(objects).flatMap((w) => {
      const mine = pdbs.filter((p) => selects(p.spec.selector, labelsOf(w)));
      return mine.length === 1 && mine[0]!.spec.maxUnavailable === 1 ? [] : [`${w.metadata.name}: ${mine.length} budgets`];
    });
    expect(problems).toEqual([]);
  });

  eachSet('edge, policy and executor scale on CPU by an autoscaler that owns their replica count', (objects, set) => {
    const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler') as Array<
      K8sObject & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number } }
    >;
    if (set.startsWith('overlays/dev')) {
      // One replica of everything in development.
      expect(hpas).toEqual([]);
      for (const app of APPS) expect(find<Workload>(objects, 'Deployment', app).spec.replicas ?? 1).toBe(1);
      return;
    }
    expect(hpas.map((h) => h.spec.scaleTargetRef.name).sort()).toEqual(['edge', 'executor', 'policy']);
    const min = set.startsWith('overlays/prod') ? 3 : 2;
    for (const h of hpas) {
      expect(h.spec.scaleTargetRef.kind).toBe('Deployment');
      expect(h.spec.minReplicas).toBeGreaterThanOrEqual(min);
      expect(h.spec.maxReplicas).toBeGreaterThan(h.spec.minReplicas);
      // A replicas field would be reset by every apply, fighting the autoscaler.
      expect(find<Workload>(objects, 'Deployment', h.spec.scaleTargetRef.name).spec.replicas).toBeUndefined();
    }
    for (const app of ['vault', 'audit']) expect(find<Workload>(objects, 'Deployment', app).spec.replicas).toBeGreaterThanOrEqual(min);
    expect(find<Workload>(objects, 'StatefulSet', 'nats').spec.replicas).toBe(3);
  });

  it.skipIf(!KUBECTL)(`${KUBECTL ? '' : '(skipped: kubectl is not on this machine) '}overlays/prod: memory limits equal requests, NATS nodes on distinct machines, no in-cluster database or Secret, a metrics token`, () => {
    const objects = render(overlayDir('prod'));
    for (const app of APPS) {
      const c = find<Workload>(objects, 'Deployment', app).spec.template.spec.containers[0]!;
      expect(quantity(c.resources!.limits!.memory!), app).toBe(quantity(c.resources!.requests!.memory!));
    }
    const nats = find<Workload>(objects, 'StatefulSet', 'nats').spec.template.spec.topologySpreadConstraints!;
    expect(nats.find((t) => t.topologyKey === 'kubernetes.io/hostname')!.whenUnsatisfiable).toBe('DoNotSchedule');
    expect(objects.filter((o) => o.metadata.name === 'postgres')).toEqual([]);
    // Secrets are created by the operator, never rendered from the repository.
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    // The edge's /metrics is on the public port: a scrape must carry the token.
    const edgeEnv = find<Workload>(objects, 'Deployment', 'edge').spec.template.spec.containers[0]!.env!;
    expect(edgeEnv.find((e) => e.name === 'VMCP_METRICS_TOKEN')!.valueFrom!.secretKeyRef).toEqual({ name: 'vmcp-metrics-token', key: 'token', optional: false });
  });
});

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: Array<{ protocol?: string; port?: number | string }>;
}
type NetworkPolicy = K8sObject & { spec: { podSelector: LabelSelector; policyTypes: string[]; ingress?: Rule[]; egress?: Rule[] } };

/** What one rule allows, as `<peer>:<port>` strings: peers named by what they select. */
function describeRule(rule: Rule, direction: 'from' | 'to', workloadsByLabels: Workload[]): string[] {
  const peers = rule[direction];
  const names = (peers === undefined || peers.length === 0 ? [undefined] : peers).map((p) => {
    if (!p) return 'anywhere';
    if (p.ipBlock) {
      const publicOnly = (p.ipBlock.except ?? []).some((e) => e.startsWith('10.') || e.startsWith('fc00'));
      return /^(0\.0\.0\.0|::)\/0$/.test(p.ipBlock.cidr) ? (publicOnly ? 'internet' : 'any-address') : `ip:${p.ipBlock.cidr}`;
    }
    if (p.podSelector?.matchLabels?.['k8s-app'] === 'kube-dns') return 'dns';
    if (p.namespaceSelector && !p.podSelector) return 'any-pod';
    const pods = workloadsByLabels.filter((w) => selects(p.podSelector, labelsOf(w))).map((w) => w.metadata.name);
    return p.namespaceSelector ? `any-namespace:${pods.join('|')}` : pods.sort().join('|') || 'nothing';
  });
  const ports = (rule.ports ?? [{}]).map((p) => String(p.port ?? '*'));
  return names.flatMap((n) => ports.map((port) => `${n}:${port}`));
}

/** Everything a workload's pods may receive (ingress) and open (egress), after default deny. */
function allowed(objects: K8sObject[], w: Workload) {
  const policies = (objects.filter((o) => o.kind === 'NetworkPolicy') as NetworkPolicy[]).filter(
    (p) => Object.keys(p.spec.podSelector).length === 0 || selects(p.spec.podSelector, labelsOf(w)),
  );
  const all = workloads(objects);
  const ingress = policies.flatMap((p) => (p.spec.ingress ?? []).flatMap((r) => describeRule(r, 'from', all)));
  const egress = policies.flatMap((p) => (p.spec.egress ?? []).flatMap((r) => describeRule(r, 'to', all)));
  return { ingress: [...new Set(ingress)].sort(), egress: [...new Set(egress)].sort() };
}

describe('network', () => {
  eachSet('denies everything by default', (objects) => {
    const deny = (objects.filter((o) => o.kind === 'NetworkPolicy') as NetworkPolicy[]).find(
      (p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress && !p.spec.egress,
    );
    expect(deny?.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
  });

  eachSet('lets each pod receive and reach only what it needs', (objects) => {
    const clients = 'audit|edge|executor|policy|vault';
    const nats = ['dns:53', 'nats:4222'];
    const database = ['any-address:5432', 'any-pod:5432'];
    const expected: Record<string, { ingress: string[]; egress: string[] }> = {
      // Only the edge takes connections from outside (the Ingress controller).
      edge: { ingress: ['anywhere:http'], egress: nats },
      policy: { ingress: [], egress: [...nats, ...database] },
      // The vault's OAuth token requests: public addresses, HTTPS only.
      vault: { ingress: [], egress: [...nats, ...database, 'internet:443'] },
      // The only pod that reaches the internet on any port (upstreams, providers, webhooks).
      executor: { ingress: [], egress: [...nats, 'internet:*'] },
      audit: { ingress: [], egress: [...nats, ...database] },
      nats: { ingress: [`${clients}:4222`, 'nats:6222'], egress: ['dns:53', 'nats:6222'] },
      postgres: { ingress: ['audit|policy|vault:5432'], egress: ['dns:53'] },
    };
    const actual = Object.fromEntries(workloads(objects).map((w) => [w.metadata.name, allowed(objects, w)]));
    const want = Object.fromEntries(Object.keys(actual).map((name) => [name, { ingress: [...expected[name]!.ingress].sort(), egress: [...expected[name]!.egress].sort() }]));
    expect(actual).toEqual(want);
  });

  eachSet('routes the public host to the edge over TLS only', (objects) => {
    const ingresses = objects.filter((o) => o.kind === 'Ingress') as Array<
      K8sObject & { spec: { tls: Array<{ hosts: string[]; secretName: string }>; rules: Array<{ host: string; http: { paths: Array<{ backend: { service: { name: string } } }> } }> } }
    >;
    expect(ingresses).toHaveLength(1);
    const { tls, rules } = ingresses[0]!.spec;
    expect(rules.flatMap((r) => r.http.paths.map((p) => p.backend.service.name))).toEqual(['edge']);
    expect(tls[0]!.hosts).toEqual(rules.map((r) => r.host));
    expect(tls[0]!.secretName).toBe('vmcp-edge-tls');
  });
});
