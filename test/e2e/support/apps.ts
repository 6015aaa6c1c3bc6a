/** Manifests for blue-green apps and groups, shaped like examples/loan-interest. */
export function blueGreenApp(name: string, version: string, options: { replicas?: number; autoPromotionEnabled?: boolean } = {}): string {
  const service = (role: string) => `apiVersion: v1
kind: Service
metadata: {name: ${name}-${role}, labels: {app: ${name}}}
spec:
  selector: {app: ${name}}
  ports: [{name: http, port: 8080, targetPort: http}]
`;
  return `${service('active')}---
${service('preview')}---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: ${name}}
spec:
  replicas: ${options.replicas ?? 2}
  revisionHistoryLimit: 3
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - {name: app, image: "ghcr.io/acme/${name}:${version}", ports: [{name: http, containerPort: 8080}]}
  strategy:
    blueGreen:
      activeService: ${name}-active
      previewService: ${name}-preview
      autoPromotionEnabled: ${options.autoPromotionEnabled ?? false}
      scaleDownDelaySeconds: 30
`;
}

export interface GroupMember {
  rollout: string;
  dependsOn?: string[];
}

export function groupManifest(name: string, members: readonly GroupMember[], extraSpec = ''): string {
  const lines = members.map((m) => {
    const deps = (m.dependsOn ?? []).map((d) => `\n    - {rollout: ${d}, port: http}`).join('');
    return `  - rollout: ${m.rollout}${deps ? `\n    dependsOn:${deps}` : ''}`;
  });
  return `apiVersion: tandem.dev/v1alpha1
kind: RolloutGroup
metadata: {name: ${name}}
spec:
  members:
${lines.join('\n')}
${extraSpec}`;
}

export const addressKey = (dependency: string) => `tandem.dev/${dependency}-url`;
