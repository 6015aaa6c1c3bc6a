/** The objects the scale benchmark creates: chained three-member groups, and plain Rollouts as Argo's baseline. */

export const BENCH_LABEL = 'tandem.dev/bench';
/** The custom resources the benchmark reads and writes, as CustomObjectsApi takes them. */
export const ARGO = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' } as const;
export const TANDEM = { group: 'tandem.dev', version: 'v1alpha1', plural: 'rolloutgroups' } as const;
export const MEMBERS = ['a', 'b', 'c'] as const;

export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
}

const service = (namespace: string, app: string, role: 'active' | 'preview', set: string): Obj => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: `${app}-${role}`, namespace, labels: { app, [BENCH_LABEL]: set } },
  // Headless: no cluster IP to allocate (an IPAddress object written per Service since Kubernetes
  // 1.33) for the 12 Services per group; Argo and Tandem read only the selector and ports.
  spec: { clusterIP: 'None', selector: { app }, ports: [{ name: 'http', port: 8080, targetPort: 'http' }] },
});

/** A one-replica blue-green Rollout with active and preview Services. */
function rollout(namespace: string, app: string, autoPromotion: boolean, set: string, image: string): Obj[] {
  return [
    service(namespace, app, 'active', set),
    service(namespace, app, 'preview', set),
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name: app, namespace, labels: { [BENCH_LABEL]: set } },
      spec: {
        replicas: 1,
        revisionHistoryLimit: 1,
        selector: { matchLabels: { app } },
        template: {
          metadata: { labels: { app } },
          spec: { containers: [{ name: 'app', image, ports: [{ name: 'http', containerPort: 8080 }] }] },
        },
        strategy: { blueGreen: { activeService: `${app}-active`, previewService: `${app}-preview`, autoPromotionEnabled: autoPromotion } },
      },
    },
  ];
}

export const memberName = (group: string, m: string) => `${group}-${m}`;

/** Group `name`: c calls b calls a (so c is promoted first), released on its own once every member is ready. */
export function groupObjects(namespace: string, name: string, image: string, settleSeconds?: number): Obj[] {
  const members = MEMBERS.map((m, i) => ({
    rollout: memberName(name, m),
    ...(i > 0 ? { dependsOn: [{ rollout: memberName(name, MEMBERS[i - 1]!), annotation: `tandem.dev/${MEMBERS[i - 1]}-url`, port: 'http' }] } : {}),
  }));
  return [
    ...MEMBERS.flatMap((m) => rollout(namespace, memberName(name, m), false, 'group', image)),
    {
      apiVersion: 'tandem.dev/v1alpha1',
      kind: 'RolloutGroup',
      metadata: { name, namespace, labels: { [BENCH_LABEL]: 'group' } },
      spec: { strategy: 'Lockstep', promotion: { auto: true }, members, ...(settleSeconds === undefined ? {} : { dataPlaneSettleSeconds: settleSeconds }) },
    },
  ];
}

/** The baseline: three plain Rollouts that Argo promotes by itself. */
export const baselineObjects = (namespace: string, name: string, image: string): Obj[] =>
  MEMBERS.flatMap((m) => rollout(namespace, memberName(name, m), true, 'baseline', image));
