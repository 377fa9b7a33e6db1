// Reading the Kubernetes manifests for the infra tests: the YAML on disk, the overlays as
// `kubectl kustomize` renders them (when kubectl is on the machine), and the small pieces
// of Kubernetes semantics the checks need (label selectors, quantities, env resolution).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const K8S = join(ROOT, 'infra', 'k8s');
export const BASE = join(K8S, 'base');
export const OVERLAYS = ['dev', 'prod'] as const;
export type Overlay = (typeof OVERLAYS)[number];
export const overlayDir = (overlay: Overlay) => join(K8S, 'overlays', overlay);

/** The five services, each a Deployment, Service, ServiceAccount and PodDisruptionBudget of its name. */
export const APPS = ['edge', 'policy', 'vault', 'executor', 'audit'] as const;
export type App = (typeof APPS)[number];

/** Any Kubernetes object; the checks read the fields they need. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
  };
}

export interface Probe {
  httpGet?: { path: string; port: number | string };
  exec?: { command: string[] };
  periodSeconds?: number;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: EnvVar[];
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: { command: string[] } } };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}

export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  topologySpreadConstraints?: Array<{ topologyKey: string; whenUnsatisfiable: string; labelSelector?: LabelSelector }>;
  containers: Container[];
  volumes?: Array<{
    name: string;
    secret?: { secretName: string; items?: Array<{ key: string; path: string }> };
    configMap?: { name: string };
    emptyDir?: object;
  }>;
}

export interface Workload extends K8sObject {
  spec: { replicas?: number; serviceName?: string; selector: LabelSelector; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}

export function isWorkload(o: K8sObject): o is Workload {
  return o.kind === 'Deployment' || o.kind === 'StatefulSet';
}

/** Every document of a YAML file that is an object with apiVersion and kind. */
export function readObjects(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => {
      if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
      return d.toJS() as unknown;
    })
    .filter((o): o is K8sObject => typeof o === 'object' && o !== null && 'apiVersion' in o && 'kind' in o);
}

interface Kustomization {
  resources?: string[];
  components?: string[];
  configMapGenerator?: Array<{ name: string; envs?: string[]; files?: string[]; literals?: string[]; behavior?: string }>;
  images?: Array<{ name: string; newName?: string; newTag?: string }>;
}

export function kustomization(dir: string): Kustomization {
  return readObjects(join(dir, 'kustomization.yaml'))[0] as unknown as Kustomization;
}

/** The kustomization directories under infra/k8s: base, the overlays and the components. */
export function kustomizationDirs(): string[] {
  return [BASE, ...OVERLAYS.map(overlayDir), join(K8S, 'components', 'public-host')];
}

/** The objects of a kustomization's own resource files (not its bases, generators or patches). */
export function resourceObjects(dir: string): Array<{ file: string; object: K8sObject }> {
  return (kustomization(dir).resources ?? [])
    .map((r) => join(dir, r))
    .filter((path) => statSync(path).isFile())
    .flatMap((file) => readObjects(file).map((object) => ({ file, object })));
}

/** KEY=VALUE lines of a kustomize env file, comments and blank lines skipped. */
export function readEnvFile(file: string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const text = line.trim();
    if (!text || text.startsWith('#')) continue;
    const eq = text.indexOf('=');
    data[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return data;
}

/**
 * The base as far as it can be read without kustomize: its resource files, plus the
 * ConfigMaps its generators make (by their unsuffixed names).
 */
export function baseObjects(): K8sObject[] {
  const objects = resourceObjects(BASE).map((r) => r.object);
  for (const gen of kustomization(BASE).configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const env of gen.envs ?? []) Object.assign(data, readEnvFile(join(BASE, env)));
    for (const file of gen.files ?? []) data[file.split('/').pop()!] = readFileSync(join(BASE, file), 'utf8');
    objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: gen.name }, data });
  }
  return objects;
}

/** Whether `kubectl kustomize` can run here (CI machines may have no kubectl). */
export const KUBECTL: boolean = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

const rendered = new Map<string, K8sObject[]>();

/** An overlay (or the base) as `kubectl kustomize` renders it; throws with kustomize's message. */
export function render(dir: string): K8sObject[] {
  let objects = rendered.get(dir);
  if (!objects) {
    const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${r.stderr || r.error?.message}`);
    objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject);
    rendered.set(dir, objects);
  }
  return objects;
}

export function find<T extends K8sObject = K8sObject>(objects: readonly K8sObject[], kind: string, name: string): T {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found as T;
}

/** A generated object's name without kustomize's hash suffix (vmcp-config-5g7k… → vmcp-config). */
export function unsuffixed(objects: readonly K8sObject[], name: string): string {
  return objects.some((o) => o.metadata.name === name) ? name : name.replace(/-[a-z0-9]{10}$/, '');
}

export function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e) => {
    switch (e.operator) {
      case 'In':
        return e.values!.includes(labels[e.key] ?? '\0');
      case 'NotIn':
        return !e.values!.includes(labels[e.key] ?? '\0');
      case 'Exists':
        return e.key in labels;
      case 'DoesNotExist':
        return !(e.key in labels);
    }
  });
  return byLabels && byExpressions;
}

/** A CPU or memory quantity in base units (cores, bytes). */
export function quantity(q: string | number): number {
  const m = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(String(q));
  if (!m) throw new Error(`not a quantity: ${q}`);
  const units: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  return Number(m[1]) * (m[2] ? units[m[2]]! : 1);
}

/** Where a container's variable comes from. */
export type EnvSource =
  | { from: 'value'; value: string }
  | { from: 'configMap'; configMap: string; value: string }
  | { from: 'secret'; secret: string; key: string; optional: boolean; value?: string }
  | { from: 'field'; fieldPath: string };

/**
 * A container's environment as Kubernetes builds it (envFrom first, env overrides), each
 * variable with its source. ConfigMap values come from `objects`, a Secret's value only
 * when the Secret is among them (an overlay's generated dev secrets).
 */
export function containerEnv(container: Container, objects: readonly K8sObject[]): Map<string, EnvSource> {
  const env = new Map<string, EnvSource>();
  const configMap = (name: string) => find<K8sObject & { data?: Record<string, string> }>(objects, 'ConfigMap', name).data ?? {};
  const secret = (name: string, key: string) => {
    const s = objects.find((o) => o.kind === 'Secret' && o.metadata.name === name) as (K8sObject & { data?: Record<string, string> }) | undefined;
    const data = s?.data?.[key];
    return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
  };
  for (const from of container.envFrom ?? []) {
    if (!from.configMapRef) throw new Error(`${container.name}: envFrom a Secret hides which variables it sets; use env with secretKeyRef`);
    for (const [name, value] of Object.entries(configMap(from.configMapRef.name))) env.set(name, { from: 'configMap', configMap: from.configMapRef.name, value });
  }
  for (const v of container.env ?? []) {
    const ref = v.valueFrom;
    if (v.value !== undefined) env.set(v.name, { from: 'value', value: v.value });
    else if (ref?.secretKeyRef) {
      const { name, key, optional } = ref.secretKeyRef;
      env.set(v.name, { from: 'secret', secret: name, key, optional: optional === true, value: secret(name, key) });
    } else if (ref?.configMapKeyRef) {
      const { name, key } = ref.configMapKeyRef;
      env.set(v.name, { from: 'configMap', configMap: name, value: configMap(name)[key]! });
    } else if (ref?.fieldRef) env.set(v.name, { from: 'field', fieldPath: ref.fieldRef.fieldPath });
    else throw new Error(`${container.name}: ${v.name} has neither a value nor a supported valueFrom`);
  }
  return env;
}

/** The number a container port (by name or number) stands for. */
export function portNumber(container: Container, port: number | string): number {
  if (typeof port === 'number') return port;
  const found = container.ports?.find((p) => p.name === port);
  if (!found) throw new Error(`${container.name} has no port named ${port}`);
  return found.containerPort;
}

export function readRepoFile(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

export function repoFileExists(path: string): boolean {
  return existsSync(join(ROOT, path));
}
