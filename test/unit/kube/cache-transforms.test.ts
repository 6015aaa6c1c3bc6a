import { describe, expect, it } from 'vitest';
import { ReplicaSet, Rollout, Service } from '../../../src/api/rollout.ts';
import { ownedKeysOf, seenAtOf, transformAnalysisRun, transformEndpointSlice, transformGroup, transformReplicaSet, transformRollout, transformService } from '../../../src/kube/cache-transforms.ts';
import { ownedAnnotationKeys } from '../../../src/kube/managed-fields.ts';
import { project } from '../../../src/kube/schema-projection.ts';

const managedFields = [
  { manager: 'argocd-controller', operation: 'Apply', apiVersion: 'argoproj.io/v1alpha1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {}, 'f:template': {} } } },
  {
    manager: 'tandem-controller',
    operation: 'Apply',
    apiVersion: 'argoproj.io/v1alpha1',
    time: '2026-01-01T00:00:01Z',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:spec': { 'f:strategy': { 'f:blueGreen': { 'f:previewMetadata': { 'f:annotations': { 'f:tandem.dev/interest-url': {} } } } } } },
  },
  { manager: 'rollouts-controller', operation: 'Update', subresource: 'status', time: '2026-01-01T00:00:02Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': { 'f:conditions': {} } } },
];

/** A Rollout as the API server sends it, with what Tandem never reads. */
const rollout = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Rollout',
  metadata: {
    name: 'loan',
    namespace: 'shop',
    uid: 'u1',
    resourceVersion: '4711',
    generation: 3,
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: { app: 'loan' },
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(4000), 'rollout.argoproj.io/revision': '2' },
    managedFields,
  },
  spec: {
    replicas: 2,
    revisionHistoryLimit: 3,
    selector: { matchLabels: { app: 'loan' } },
    template: {
      metadata: { labels: { app: 'loan' } },
      spec: { containers: [{ name: 'loan', image: 'ghcr.io/acme/loan:2.0', env: [{ name: 'X', value: '1' }], ports: [{ containerPort: 8080 }] }] },
    },
    strategy: {
      blueGreen: {
        activeService: 'loan-active',
        previewService: 'loan-preview',
        autoPromotionEnabled: false,
        previewMetadata: { annotations: { 'tandem.dev/interest-url': 'http://interest-preview.shop.svc.cluster.local:8080' } },
      },
    },
  },
  status: {
    observedGeneration: '3',
    currentPodHash: 'abc',
    stableRS: 'old',
    phase: 'Paused',
    message: 'BlueGreenPause',
    controllerPause: true,
    pauseConditions: [{ reason: 'BlueGreenPause', startTime: '2026-01-01T00:00:03Z' }],
    blueGreen: { activeSelector: 'old', previewSelector: 'abc' },
    conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'long text '.repeat(20), lastUpdateTime: 'x', lastTransitionTime: 'y' }],
    HPAReplicas: 2,
    selector: 'app=loan',
  },
};

const replicaSet = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: {
    name: 'loan-abc',
    namespace: 'shop',
    uid: 'u2',
    resourceVersion: '4712',
    generation: 2,
    labels: { app: 'loan', 'rollouts-pod-template-hash': 'abc' },
    annotations: { 'rollout.argoproj.io/ephemeral-metadata': '{"annotations":{"tandem.dev/interest-url":"http://x"}}', 'rollout.argoproj.io/revision': '2' },
    ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'loan', uid: 'u1', controller: true, blockOwnerDeletion: true }],
    managedFields,
  },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'loan', 'rollouts-pod-template-hash': 'abc' } },
    template: {
      metadata: { labels: { app: 'loan', 'rollouts-pod-template-hash': 'abc' }, annotations: { 'tandem.dev/interest-url': 'http://x' } },
      spec: { containers: [{ name: 'loan', image: 'ghcr.io/acme/loan:2.0', env: [{ name: 'X', value: '1' }], resources: {} }], restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' },
    },
  },
  status: { observedGeneration: 2, replicas: 2, availableReplicas: 2, readyReplicas: 2, fullyLabeledReplicas: 2, conditions: [] },
};

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'loan-active', namespace: 'shop', uid: 'u3', resourceVersion: '4713', labels: { app: 'loan' }, annotations: { 'argo-rollouts.argoproj.io/managed-by-rollouts': 'loan' }, managedFields },
  spec: {
    selector: { app: 'loan', 'rollouts-pod-template-hash': 'old' },
    ports: [{ name: 'http', port: 8080, protocol: 'TCP', targetPort: 'http' }],
    clusterIP: '10.0.0.1',
    clusterIPs: ['10.0.0.1'],
    type: 'ClusterIP',
    sessionAffinity: 'None',
    ipFamilies: ['IPv4'],
  },
  status: { loadBalancer: {} },
};

const size = (o: unknown) => JSON.stringify(o).length;
const copy = <T>(o: T): T => structuredClone(o);

describe('cache transforms', () => {
  it('a cached Rollout reads as the original through its schema, without managedFields, and keeps Tandem’s owned keys', () => {
    const cached = transformRollout(copy(rollout));
    expect(project(Rollout, Rollout.parse(cached))).toEqual(project(Rollout, Rollout.parse(copy(rollout))));
    expect(ownedKeysOf(cached)).toEqual(ownedAnnotationKeys(managedFields, 'tandem-controller'));
    expect(ownedKeysOf(cached)).toEqual({ previewMetadata: ['tandem.dev/interest-url'] });
    // Of the annotations only the consent key is read (consent mode, docs/security.md): none here.
    expect(cached.metadata).toEqual({ name: 'loan', namespace: 'shop', uid: 'u1', resourceVersion: '4711', generation: 3, annotations: {} });
    expect(cached['status']).not.toHaveProperty('conditions');
    expect(size(cached)).toBeLessThan(size(rollout) / 5);
  });

  it('a cached Rollout keeps its consent annotation and no other', () => {
    const r = copy(rollout);
    const cached = transformRollout({ ...r, metadata: { ...r.metadata, annotations: { ...r.metadata.annotations, 'tandem.dev/authorized-group': 'loans' } } });
    expect((cached.metadata as { annotations?: unknown }).annotations).toEqual({ 'tandem.dev/authorized-group': 'loans' });
    expect(Rollout.parse(cached).metadata.annotations).toEqual({ 'tandem.dev/authorized-group': 'loans' });
  });

  it('a cached ReplicaSet keeps its pod template whole (a restore writes it back) and its owner', () => {
    const cached = transformReplicaSet(copy(replicaSet));
    expect(project(ReplicaSet, ReplicaSet.parse(cached))).toEqual(project(ReplicaSet, ReplicaSet.parse(copy(replicaSet))));
    expect((cached['spec'] as { template: unknown }).template).toEqual(replicaSet.spec.template);
    expect(cached.metadata?.['ownerReferences']).toEqual([{ kind: 'Rollout', name: 'loan' }]);
    expect(cached.metadata?.['resourceVersion']).toBe('4712');
    expect(cached.metadata).not.toHaveProperty('managedFields');
  });

  it('a cached Service keeps its selector and ports', () => {
    const cached = transformService(copy(service));
    expect(Service.parse(cached)).toEqual({
      metadata: { name: 'loan-active', namespace: 'shop', uid: 'u3', resourceVersion: '4713' },
      spec: { selector: service.spec.selector, ports: [{ name: 'http', port: 8080 }] },
    });
  });

  it('a cached AnalysisRun keeps its metadata, status, spec.terminate, args and timing, not its providers', () => {
    const metric = { name: 'm', initialDelay: '5s', interval: '10s', count: 3, successCondition: 'result[0] < 1', provider: { prometheus: { query: 'q' } } };
    const args = [{ name: 'frontend', value: 'loan-preview' }];
    const run = { metadata: { name: 'r', namespace: 'shop', labels: { 'tandem.dev/group': 'g' }, annotations: { 'tandem.dev/terminated': 'why' }, managedFields }, spec: { terminate: true, args, metrics: [metric] }, status: { phase: 'Running' } };
    const { managedFields: _, ...metadata } = run.metadata;
    expect(transformAnalysisRun(copy(run))).toEqual({ metadata, spec: { terminate: true, args, metrics: [{ name: 'm', initialDelay: '5s', interval: '10s', count: 3 }] }, status: { phase: 'Running' } });
    expect(transformAnalysisRun(copy({ ...run, spec: { metrics: [{ name: 'm' }] } }))).toEqual({ metadata, spec: { metrics: [{ name: 'm' }] }, status: { phase: 'Running' } });
  });

  it('a cached group loses only its managedFields', () => {
    const g = { apiVersion: 'tandem.dev/v1alpha1', kind: 'RolloutGroup', metadata: { name: 'g', namespace: 'shop', annotations: { 'tandem.dev/promote': 'r1' }, managedFields }, spec: { members: [] }, status: { phase: 'Healthy' } };
    const { managedFields: _, ...metadata } = g.metadata;
    expect(transformGroup(copy(g))).toEqual({ ...g, metadata });
  });
});

describe('project', () => {
  it('keeps declared keys through wrappers and arrays, records and whole paths as they are', async () => {
    const { z } = await import('zod');
    const schema = z.looseObject({
      a: z.string().optional(),
      list: z.array(z.looseObject({ keep: z.number() })).default([]),
      labels: z.record(z.string(), z.string()).nullish(),
      deep: z.looseObject({ kept: z.boolean() }).optional(),
      whole: z.looseObject({}).optional(),
    });
    const value = { a: 'x', drop: 1, list: [{ keep: 1, drop: 2 }], labels: { any: 'thing' }, deep: { kept: true, gone: 'y' }, whole: { everything: { stays: 1 } } };
    expect(project(schema, value, new Set(['whole']))).toEqual({ a: 'x', list: [{ keep: 1 }], labels: { any: 'thing' }, deep: { kept: true }, whole: { everything: { stays: 1 } } });
    expect(project(schema, { a: null })).toEqual({ a: null });
  });
});

describe('transformEndpointSlice', () => {
  const slice = (endpoints: unknown[]) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'interest-active-x7k2p', namespace: 'shop', uid: 'u1', resourceVersion: '42', labels: { 'kubernetes.io/service-name': 'interest-active', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' }, managedFields: [{ manager: 'kube-controller-manager' }] },
    addressType: 'IPv4',
    ports: [{ port: 8080 }],
    endpoints,
  });
  const ep = (pod: string, ready?: boolean) => ({ addresses: ['10.0.0.1'], targetRef: { kind: 'Pod', name: pod, namespace: 'shop', uid: pod }, nodeName: 'n', conditions: { ...(ready === undefined ? {} : { ready }), serving: true } });

  it('keeps the Service label, the ReplicaSets of the listed pods (deduplicated) and whether one is ready, stamped with when it arrived', () => {
    const out = transformEndpointSlice(slice([ep('interest-6f9c7d-abcde'), ep('interest-6f9c7d-fghij', false), ep('interest-5b8d4c-klmno', false)]), () => 1234);
    expect(JSON.parse(JSON.stringify(out))).toEqual({
      metadata: { name: 'interest-active-x7k2p', namespace: 'shop', uid: 'u1', resourceVersion: '42', labels: { 'kubernetes.io/service-name': 'interest-active' } },
      replicaSets: ['interest-5b8d4c', 'interest-6f9c7d'],
      ready: true,
      terminating: false,
    });
    expect(seenAtOf(out)).toBe(1234);
  });

  it('an empty slice lists nothing ready; only pods count', () => {
    expect(transformEndpointSlice(slice([]), () => 0)).toMatchObject({ replicaSets: [], ready: false });
    expect(transformEndpointSlice(slice([ep('interest-6f9c7d-abcde', false)]), () => 0)).toMatchObject({ replicaSets: ['interest-6f9c7d'], ready: false });
    const leaving = { ...ep('interest-5b8d4c-klmno', false), conditions: { ready: false, serving: true, terminating: true } };
    expect(transformEndpointSlice(slice([ep('interest-6f9c7d-abcde'), leaving]), () => 0)).toMatchObject({ ready: true, terminating: true });
  });
});
