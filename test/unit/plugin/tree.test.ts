import { describe, expect, it } from 'vitest';
import { RolloutGroup } from '../../../src/api/rolloutgroup.ts';
import { Rollout } from '../../../src/api/rollout.ts';
import { renderTree, type MemberLive } from '../../../src/plugin/tree.ts';
import { promotionOrder } from '../../../src/plugin/promotion-order.ts';

const group = (status: unknown, spec: Record<string, unknown> = {}) =>
  RolloutGroup.parse({
    metadata: { name: 'loans', namespace: 'shop', generation: 3 },
    spec: {
      members: [{ rollout: 'interest' }, { rollout: 'loan', dependsOn: [{ rollout: 'interest' }] }],
      ...spec,
    },
    status,
  });

const rollout = (name: string, stable: string, desired: string, phase: string) =>
  Rollout.parse({
    metadata: { name, namespace: 'shop', generation: 2 },
    spec: {
      strategy: { blueGreen: { activeService: `${name}-active`, previewService: `${name}-preview`, autoPromotionEnabled: false } },
      template: { spec: { containers: [{ name: 'app', image: `ghcr.io/acme/${name}:2.0` }] } },
    },
    status: { stableRS: stable, currentPodHash: desired, phase, message: phase === 'Paused' ? 'BlueGreenPause' : undefined },
  });

const live = (name: string, stable: string, desired: string, phase: string, previewExists = true): MemberLive => ({
  rollout: rollout(name, stable, desired, phase),
  services: [
    { role: 'active', name: `${name}-active`, exists: true, selects: stable },
    { role: 'preview', name: `${name}-preview`, exists: previewExists, selects: previewExists ? desired : undefined },
  ],
});

const midRelease = {
  observedGeneration: 3,
  phase: 'Paused',
  message: 'release c6d38bfebe ready: 2/2 members; waiting for promote',
  readyMembers: '2/2',
  release: { id: 'c6d38bfebe', targets: [], startedAt: '2026-01-01T00:00:00Z', readyAt: '2026-01-01T00:00:20Z' },
  members: [
    { rollout: 'interest', state: 'Ready' },
    { rollout: 'loan', state: 'Ready' },
  ],
};

describe('renderTree', () => {
  it('shows a group mid-release: members dependents first, revisions, images and where Services point', () => {
    const out = renderTree(
      group(midRelease),
      new Map([
        ['interest', live('interest', 'aaa111', 'bbb222', 'Paused')],
        ['loan', live('loan', 'ccc333', 'ddd444', 'Paused')],
      ]),
    );
    expect(out).toBe(`Name:         loans
Namespace:    shop
Strategy:     Lockstep, promotion on promote request
Phase:        ॥ Paused
Message:      release c6d38bfebe ready: 2/2 members; waiting for promote
Release:      c6d38bfebe (Gating, started 2026-01-01T00:00:00Z, ready 2026-01-01T00:00:20Z)
Ready:        2/2

⟳ loans  RolloutGroup  Paused
├── 1. loan  BlueGreen  Paused  Ready
│      revisions:  stable ccc333  desired ddd444
│      images:     ghcr.io/acme/loan:2.0
│      active:     loan-active → ccc333 (stable)
│      preview:    loan-preview → ddd444 (desired)
│      depends on: interest
│      message:    BlueGreenPause
└── 2. interest  BlueGreen  Paused  Ready
       revisions:  stable aaa111  desired bbb222
       images:     ghcr.io/acme/interest:2.0
       active:     interest-active → aaa111 (stable)
       preview:    interest-preview → bbb222 (desired)
       message:    BlueGreenPause
`);
  });

  it('says when the status is stale, a Rollout or Service is missing, and a Service selects an old revision', () => {
    const out = renderTree(
      group({ ...midRelease, observedGeneration: 2 }),
      new Map<string, MemberLive>([
        ['interest', { rollout: undefined, services: [] }],
        ['loan', { ...live('loan', 'ccc333', 'ccc333', 'Healthy', false), services: [{ role: 'active', name: 'loan-active', exists: true, selects: 'old999' }, { role: 'preview', name: 'loan-preview', exists: false, selects: undefined }] }],
      ]),
    );
    expect(out).toContain('Phase:        ॥ Paused (spec change not yet observed)');
    expect(out).toContain('└── 2. interest  Rollout not found  Ready');
    expect(out).toContain('revisions:  stable ccc333  desired ccc333  (promoted)');
    expect(out).toContain('active:     loan-active → old999 (old)');
    expect(out).toContain('preview:    loan-preview → Service not found');
  });

  it('shows the stage of a canary release, the members moved on, and those rolled back', () => {
    const out = renderTree(
      group({ ...midRelease, release: { ...midRelease.release, stage: 1, stages: 2, promotedMembers: ['loan'], abortedAt: '2026-01-01T00:01:00Z', abortReason: 'abort requested: x', rolledBack: ['interest'], retries: 1 } }),
      new Map(),
    );
    expect(out).toContain('Release:      c6d38bfebe (RollingBack, stage 2/2, started 2026-01-01T00:00:00Z, ready 2026-01-01T00:00:20Z, aborted 2026-01-01T00:01:00Z, retried 1×)');
    expect(out).toContain('Moved on:     loan');
    expect(out).toContain('Rolled back:  interest');
  });

  it('shows the group AnalysisRuns of the release, with what decided', () => {
    const analysisRuns = [
      { name: 'loans-c6d38bfebe-pre-1', point: 'prePromotion', stage: 0, phase: 'Successful' },
      { name: 'loans-c6d38bfebe-post-1', point: 'postPromotion', stage: 0, phase: 'Failed', message: 'metric error-ratio Failed (last value [0.5])' },
    ];
    const out = renderTree(group({ ...midRelease, release: { ...midRelease.release, analysisRuns } }), new Map());
    expect(out).toContain('Analysis:     α loans-c6d38bfebe-pre-1 (prePromotion) Successful\n');
    expect(out).toContain('Analysis:     α loans-c6d38bfebe-post-1 (postPromotion) Failed: metric error-ratio Failed (last value [0.5])');
  });

  it('shows a group without status or release', () => {
    const out = renderTree(group(undefined), new Map());
    expect(out).toContain('Phase:        ? Unknown');
    expect(out).toContain('Release:      -');
  });
});

describe('promotionOrder', () => {
  const members = [{ rollout: 'db', dependsOn: [] }, { rollout: 'web', dependsOn: [{ rollout: 'api' }] }, { rollout: 'api', dependsOn: [{ rollout: 'db' }] }];
  it('is dependents first for Lockstep', () => {
    expect(promotionOrder({ strategy: 'Lockstep', members })).toEqual(['web', 'api', 'db']);
  });
  it('follows order for Ordered', () => {
    expect(promotionOrder({ strategy: 'Ordered', order: 'DependenciesFirst', members })).toEqual(['db', 'api', 'web']);
    expect(promotionOrder({ strategy: 'Ordered', order: 'DependentsFirst', members })).toEqual(['web', 'api', 'db']);
  });
  it('keeps the spec order when the graph has a cycle', () => {
    expect(promotionOrder({ strategy: 'Lockstep', members: [{ rollout: 'a', dependsOn: [{ rollout: 'b' }] }, { rollout: 'b', dependsOn: [{ rollout: 'a' }] }] })).toEqual(['a', 'b']);
  });
});
