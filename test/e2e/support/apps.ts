/** Manifests for blue-green and canary apps and groups, shaped like examples/loan-interest. */

/** Two Services of an app (active/preview, or stable/canary) and its Rollout with the given strategy. */
function app(name: string, version: string, replicas: number, roles: readonly [string, string], strategy: string): string {
  const service = (role: string) => `apiVersion: v1
kind: Service
metadata: {name: ${name}-${role}, labels: {app: ${name}}}
spec:
  selector: {app: ${name}}
  ports: [{name: http, port: 8080, targetPort: http}]
`;
  return `${service(roles[0])}---
${service(roles[1])}---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  revisionHistoryLimit: 3
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - {name: app, image: "ghcr.io/acme/${name}:${version}", ports: [{name: http, containerPort: 8080}]}
  strategy:
${strategy}
`;
}

export function blueGreenApp(
  name: string,
  version: string,
  options: { replicas?: number; autoPromotionEnabled?: boolean; postPromotionAnalysis?: string } = {},
): string {
  const analysis = options.postPromotionAnalysis ? `\n      postPromotionAnalysis: {templates: [{templateName: ${options.postPromotionAnalysis}}]}` : '';
  return app(name, version, options.replicas ?? 2, ['active', 'preview'], `    blueGreen:
      activeService: ${name}-active
      previewService: ${name}-preview
      autoPromotionEnabled: ${options.autoPromotionEnabled ?? false}
      scaleDownDelaySeconds: 30${analysis}`);
}

/** A basic canary Rollout with its canary and stable Services; `weights` gives one barrier per weight. */
export function canaryApp(name: string, version: string, weights: readonly number[] = [25, 75]): string {
  const steps = weights.map((w) => `      - setWeight: ${w}\n      - pause: {}`).join('\n');
  return app(name, version, 4, ['stable', 'canary'], `    canary:
      stableService: ${name}-stable
      canaryService: ${name}-canary
      steps:
${steps}`);
}

/**
 * An AnalysisTemplate with one `web` metric: successful while the endpoint answers {"ok": true},
 * measured once, after `initialDelaySeconds` if given.
 */
export function webAnalysis(name: string, url: string, initialDelaySeconds?: number): string {
  return `apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: ${name}}
spec:
  metrics:
  - name: ok${initialDelaySeconds === undefined ? '' : `
    initialDelay: ${initialDelaySeconds}s`}
    count: 1
    failureLimit: 0
    successCondition: result == true
    provider:
      web:
        url: ${url}
        jsonPath: "{$.ok}"
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
