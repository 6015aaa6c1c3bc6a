/** Raw objects as the dashboard's watches hold them: a loans group (loan calls interest) at its gate. */
export const NS = 'shop';

export const release = (extra: Record<string, unknown> = {}) => ({
  id: 'r1',
  state: 'Gating',
  targets: [
    { rollout: 'interest', revision: 'i2', from: 'i1' },
    { rollout: 'loan', revision: 'l2', from: 'l1' },
  ],
  startedAt: '2026-01-01T10:00:00Z',
  readyAt: '2026-01-01T10:00:20Z',
  ...extra,
});

export const group = (release?: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'tandem.dev/v1alpha1',
  kind: 'RolloutGroup',
  metadata: { name: 'loans', namespace: NS, generation: 3, creationTimestamp: '2026-01-01T09:00:00Z', annotations: {} },
  spec: { members: [{ rollout: 'interest' }, { rollout: 'loan', dependsOn: [{ rollout: 'interest', annotation: 'tandem.dev/interest-url', port: 8080 }] }] },
  status: {
    observedGeneration: 3,
    phase: release ? 'Paused' : 'Healthy',
    message: release ? 'release r1 ready: 2/2 members; waiting for promote' : '2/2 members stable',
    readyMembers: '2/2',
    ...(release ? { release } : {}),
    members: [
      { rollout: 'interest', strategy: 'BlueGreen', phase: 'Paused', stableRevision: 'i1', desiredRevision: 'i2', images: ['acme/interest:2'], state: 'Ready' },
      { rollout: 'loan', strategy: 'BlueGreen', phase: 'Paused', stableRevision: 'l1', desiredRevision: 'l2', images: ['acme/loan:2'], state: 'Ready' },
    ],
    conditions: [{ type: 'Ready', status: 'False', reason: 'AwaitingPromotion', message: 'waiting', lastTransitionTime: '2026-01-01T10:00:20Z' }],
  },
  ...extra,
});

const url = (svc: string) => `http://${svc}.${NS}.svc.cluster.local:8080`;

export const rollout = (name: string, annotations?: { preview: string; active: string }) => ({
  metadata: { name, namespace: NS, generation: 2 },
  spec: {
    strategy: {
      blueGreen: {
        activeService: `${name}-active`,
        previewService: `${name}-preview`,
        ...(annotations
          ? { previewMetadata: { annotations: { 'tandem.dev/interest-url': url(annotations.preview) } }, activeMetadata: { annotations: { 'tandem.dev/interest-url': url(annotations.active) } } }
          : {}),
      },
    },
    template: { spec: { containers: [{ image: `acme/${name}:2` }] } },
  },
  status: { observedGeneration: '2', currentPodHash: name[0] + '2', stableRS: name[0] + '1', phase: 'Paused' },
});

export const service = (name: string, hash: string) => ({ metadata: { name, namespace: NS }, spec: { selector: { app: 'x', 'rollouts-pod-template-hash': hash }, ports: [{ port: 8080 }] } });

export const event = (reason: string, last: string, type = 'Normal', name = 'loans') => ({
  type,
  reason,
  message: `${reason} message`,
  count: 1,
  lastTimestamp: last,
  involvedObject: { kind: 'RolloutGroup', name, namespace: NS },
});

export const snapshot = (groups: unknown[], rolloutWiring = { preview: 'interest-preview', active: 'interest-active' }, events: unknown[] = []) => ({
  groups,
  rollouts: [rollout('interest'), rollout('loan', rolloutWiring)],
  services: [service('interest-active', 'i1'), service('interest-preview', 'i2'), service('loan-active', 'l1'), service('loan-preview', 'l2')],
  events,
  problems: [],
});
