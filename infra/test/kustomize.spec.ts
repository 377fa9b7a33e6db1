// The manifests are valid Kubernetes: every overlay renders with kustomize, and every object
// (the base's files on disk, and each rendered overlay) validates against the schemas of a
// current Kubernetes release (kubernetes-models, generated from the API's OpenAPI document).
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as coreV1 from 'kubernetes-models/v1';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASE, K8S, KUBECTL, OVERLAYS, overlayDir, render, resourceObjects, kustomizationDirs, type K8sObject } from './k8s.js';

interface Validatable {
  validate(): void;
}
type ModelClass = (new (data: unknown) => Validatable) & { apiVersion: string; kind: string };

/** apiVersion/kind → the model that validates it, for every group the manifests use. */
const MODELS = new Map<string, ModelClass>();
for (const group of [coreV1, appsV1, autoscalingV2, networkingV1, policyV1] as Array<Record<string, unknown>>) {
  for (const value of Object.values(group)) {
    const model = value as Partial<ModelClass>;
    if (typeof value === 'function' && typeof model.apiVersion === 'string' && typeof model.kind === 'string') {
      MODELS.set(`${model.apiVersion}/${model.kind}`, value as ModelClass);
    }
  }
}

/** Schema errors of one object; an apiVersion/kind without a model is an error too (a typo, or a group to add above). */
function schemaErrors(object: K8sObject): string | undefined {
  const Model = MODELS.get(`${object.apiVersion}/${object.kind}`);
  if (!Model) return `no schema for ${object.apiVersion} ${object.kind}`;
  try {
    new Model(object).validate();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

const RENDER = KUBECTL ? 'kubectl kustomize' : 'kubectl kustomize (skipped: kubectl is not on this machine)';

describe('Kubernetes schemas of the manifests on disk', () => {
  const files = kustomizationDirs().flatMap((dir) => resourceObjects(dir));

  it('finds the base, the overlays and their resource files', () => {
    expect(MODELS.get('apps/v1/Deployment')).toBeDefined();
    const kinds = new Set(files.filter((f) => f.file.startsWith(BASE)).map((f) => f.object.kind));
    expect([...kinds].sort()).toEqual(
      ['Deployment', 'HorizontalPodAutoscaler', 'Ingress', 'NetworkPolicy', 'PodDisruptionBudget', 'Service', 'ServiceAccount', 'StatefulSet'].sort(),
    );
  });

  it('validates every object of every resource file', () => {
    const errors = files.flatMap(({ file, object }) => {
      const error = schemaErrors(object);
      return error ? [`${relative(K8S, file)} ${object.kind} ${object.metadata.name}: ${error}`] : [];
    });
    expect(errors).toEqual([]);
  });

  it('names no Secret value in the base (the overlays or the operator create them)', () => {
    expect(files.filter((f) => f.file.startsWith(BASE) && f.object.kind === 'Secret')).toEqual([]);
  });
});

describe.skipIf(!KUBECTL)(RENDER, () => {
  it.each(OVERLAYS)('renders overlays/%s, and every object validates against the schemas', (overlay) => {
    const objects = render(overlayDir(overlay));
    expect(objects.length).toBeGreaterThan(30);
    const errors = objects.flatMap((o) => {
      const error = schemaErrors(o);
      return error ? [`${o.kind} ${o.metadata.name}: ${error}`] : [];
    });
    expect(errors).toEqual([]);
  });

  it.each(OVERLAYS)('overlays/%s puts every namespaced object in its own namespace', (overlay) => {
    const objects = render(overlayDir(overlay));
    const namespace = objects.find((o) => o.kind === 'Namespace')!.metadata.name;
    expect(namespace).toBe(overlay === 'prod' ? 'vmcp' : 'vmcp-dev');
    expect(objects.filter((o) => o.kind !== 'Namespace' && o.metadata.namespace !== namespace).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
  });

  it('renders the base alone too', () => {
    expect(render(BASE).filter((o) => o.kind === 'Deployment')).toHaveLength(5);
  });
});
