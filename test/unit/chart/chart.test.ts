/**
 * The Helm chart as `helm template` and `helm lint` see it (the real helm, built by
 * test/cluster/build-helm.sh): names from the release, every value argo-helm users expect, and RBAC
 * rules identical to config/rbac. test/e2e/helm.test.ts installs, upgrades and uninstalls it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../../../src/notifications/config.ts';

const helm = execFileSync('bash', ['test/cluster/build-helm.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const CHART = 'charts/tandem';

// Rendered manifests are free-form.
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: any };

function template(values: Record<string, string> = {}, release = 'tandem', namespace = 'tandem-system', extra: string[] = []): Obj[] {
  const sets = Object.entries(values).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
  const out = execFileSync(helm, ['template', release, CHART, '--namespace', namespace, ...sets, ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(out)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}
const one = (objs: Obj[], kind: string): Obj => {
  const found = objs.filter((o) => o.kind === kind);
  expect(found.map((o) => o.kind), kind).toEqual([kind]);
  return found[0]!;
};
const kinds = (objs: Obj[]) => objs.map((o) => o.kind).sort();
const id = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const CLUSTER_SCOPED = new Set(['ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition']);
const container = (objs: Obj[]) => one(objs, 'Deployment').spec.template.spec.containers[0];
const rules = (o: Obj) => o['rules'] as unknown;
/** The controller's own ClusterRole (the others are users' roles, aggregated into view/edit/admin). */
const controllerRole = (objs: Obj[]): Obj => one(objs.filter((o) => !o.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-view'] && !o.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-edit'] && !o.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-admin']), 'ClusterRole');

describe('Helm chart: names', () => {
  it('release "tandem" gives config/default’s names; the image tag defaults to appVersion; no Namespace object', () => {
    const objs = template();
    expect(objs.map(id).sort()).toEqual(
      [
        'ClusterRole//tandem-controller-tandem-system',
        'ClusterRole//tandem-view-tandem-system',
        'ClusterRole//tandem-edit-tandem-system',
        'ClusterRole//tandem-admin-tandem-system',
        'ClusterRoleBinding//tandem-controller-tandem-system',
        'CustomResourceDefinition//rolloutgroups.tandem.dev',
        'Deployment/tandem-system/tandem-controller',
        'Role/tandem-system/tandem-leader-election',
        'RoleBinding/tandem-system/tandem-leader-election',
        'Service/tandem-system/tandem-controller-metrics',
        'ServiceAccount/tandem-system/tandem-controller',
        ...[0, 1, 2, 3, 4].flatMap((k) => [`ValidatingAdmissionPolicy//tandem-member-authority-${k}-tandem-system`, `ValidatingAdmissionPolicyBinding//tandem-member-authority-${k}-tandem-system`]),
      ].sort(),
    );
    const appVersion = (parse(readFileSync(`${CHART}/Chart.yaml`, 'utf8')) as { appVersion: string }).appVersion;
    expect(container(objs).image).toBe(`ghcr.io/tandem-dev/tandem:${appVersion}`);
    expect(container(template({ 'image.tag': '9.9.9' })).image).toBe('ghcr.io/tandem-dev/tandem:9.9.9');
  });

  it('the same release name in two namespaces shares no cluster-scoped object but the CRD', () => {
    const a = template({}, 'tandem', 'team-a');
    const b = template({ 'crds.install': 'false' }, 'tandem', 'team-b');
    const clusterNames = (objs: Obj[]) => objs.filter((o) => CLUSTER_SCOPED.has(o.kind)).map(id);
    expect(clusterNames(a).filter((n) => clusterNames(b).includes(n))).toEqual([]);
    // Only one release may own the CRD.
    expect(kinds(b)).not.toContain('CustomResourceDefinition');
    const binding = one(b, 'ClusterRoleBinding');
    expect(binding['roleRef'].name).toBe(controllerRole(b).metadata.name);
    expect(binding['subjects']).toEqual([{ kind: 'ServiceAccount', name: 'tandem-controller', namespace: 'team-b' }]);
  });

  it('two releases in one namespace share no object name, Lease or pod selector', () => {
    const a = template({ 'crds.install': 'false' }, 'blue');
    const b = template({ 'crds.install': 'false' }, 'green');
    expect(a.map(id).filter((n) => b.map(id).includes(n))).toEqual([]);
    expect(one(a, 'Deployment').metadata.name).toBe('blue-tandem-controller');
    const lease = (objs: Obj[]) => (container(objs).args as string[]).find((x) => x.startsWith('--leader-election-id='));
    expect(lease(a)).toBe('--leader-election-id=blue-tandem-controller-leader');
    expect(lease(a)).not.toBe(lease(b));
    const selector = (objs: Obj[]) => one(objs, 'Deployment').spec.selector.matchLabels as Record<string, string>;
    expect(selector(a)).not.toEqual(selector(b));
    expect(one(a, 'Service').spec.selector).toEqual(selector(a));
    expect(one(a, 'Deployment').spec.template.metadata.labels).toMatchObject(selector(a));
  });

  it('nameOverride and fullnameOverride', () => {
    expect(one(template({ fullnameOverride: 'tdm' }), 'Deployment').metadata.name).toBe('tdm-controller');
    const named = template({ nameOverride: 'coordinator' }, 'shop');
    expect(one(named, 'Deployment').metadata.name).toBe('shop-coordinator-controller');
    expect(one(named, 'Deployment').metadata.labels?.['app.kubernetes.io/name']).toBe('coordinator');
  });
});

describe('Helm chart: RBAC and ServiceAccount', () => {
  const configRole = parse(readFileSync('config/rbac/role.yaml', 'utf8')) as Obj;

  it('the ClusterRole grants exactly config/rbac’s rules (test/e2e/rbac.test.ts measures those)', () => {
    expect(rules(controllerRole(template()))).toEqual(rules(configRole));
  });

  it('users’ roles: config/rbac/user_roles.yaml’s rules, aggregated into view, edit and admin; none with rbac.userRoles=false', () => {
    const configured = parseAllDocuments(readFileSync('config/rbac/user_roles.yaml', 'utf8')).map((d) => d.toJS() as Obj);
    const objs = template();
    const rendered = objs.filter((o) => o.kind === 'ClusterRole' && o !== controllerRole(objs));
    expect(rendered.map((o) => o.metadata.name)).toEqual(configured.map((o) => `${o.metadata.name}-tandem-system`));
    rendered.forEach((o, i) => {
      expect(rules(o)).toEqual(rules(configured[i]!));
      const role = configured[i]!.metadata.name.replace('tandem-', '');
      expect(o.metadata.labels?.[`rbac.authorization.k8s.io/aggregate-to-${role}`]).toBe('true');
      expect(configured[i]!.metadata.labels?.[`rbac.authorization.k8s.io/aggregate-to-${role}`]).toBe('true');
    });
    expect(template({ 'rbac.userRoles': 'false' }).filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name)).toEqual(['tandem-controller-tandem-system']);
  });

  it('namespaced: a Role with the same rules in the watched namespace, and --namespace', () => {
    for (const [values, watched] of [
      [{ namespaced: 'true' }, 'tandem-system'],
      [{ namespaced: 'true', watchNamespace: 'shop' }, 'shop'],
    ] as const) {
      const objs = template(values);
      expect(kinds(objs)).not.toContain('ClusterRole');
      expect(kinds(objs)).not.toContain('ClusterRoleBinding');
      const [role, leader] = [...objs.filter((o) => o.kind === 'Role')].sort((x, y) => (x.metadata.name.includes('leader') ? 1 : 0) - (y.metadata.name.includes('leader') ? 1 : 0));
      expect(role!.metadata.namespace).toBe(watched);
      expect(rules(role!)).toEqual(rules(configRole));
      expect(leader!.metadata.namespace).toBe('tandem-system');
      const binding = objs.find((o) => o.kind === 'RoleBinding' && o.metadata.name === role!.metadata.name)!;
      expect(binding.metadata.namespace).toBe(watched);
      expect(binding['roleRef']).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role!.metadata.name });
      expect(binding['subjects']).toEqual([{ kind: 'ServiceAccount', name: 'tandem-controller', namespace: 'tandem-system' }]);
      expect(container(objs).args).toContain(`--namespace=${watched}`);
    }
    expect((container(template()).args as string[]).some((a) => a.startsWith('--namespace'))).toBe(false);
  });

  it('serviceAccount.create/name/annotations', () => {
    const annotated = one(template({ 'serviceAccount.annotations.iam\\.gke\\.io/gcp-service-account': 'tandem@p.iam.gserviceaccount.com' }), 'ServiceAccount');
    expect(annotated.metadata.annotations).toEqual({ 'iam.gke.io/gcp-service-account': 'tandem@p.iam.gserviceaccount.com' });
    const renamed = template({ 'serviceAccount.name': 'coordinator' });
    expect(one(renamed, 'ServiceAccount').metadata.name).toBe('coordinator');
    expect(one(renamed, 'Deployment').spec.template.spec.serviceAccountName).toBe('coordinator');
    const existing = template({ 'serviceAccount.create': 'false', 'serviceAccount.name': 'provided' });
    expect(kinds(existing)).not.toContain('ServiceAccount');
    expect(one(existing, 'Deployment').spec.template.spec.serviceAccountName).toBe('provided');
    for (const b of existing.filter((o) => /^(Cluster)?RoleBinding$/.test(o.kind))) expect(b['subjects'][0].name).toBe('provided');
  });

  it('rbac.create=false renders no Role, ClusterRole or binding', () => {
    expect(kinds(template({ 'rbac.create': 'false', 'admissionPolicy.enabled': 'false' }))).toEqual(['CustomResourceDefinition', 'Deployment', 'Service', 'ServiceAccount']);
  });
});

describe('Helm chart: secure metrics', () => {
  it('metrics.secure adds --metrics-secure, config/metrics-secure’s roles and an HTTPS ServiceMonitor', () => {
    const objs = template({ 'metrics.secure': 'true', 'serviceMonitor.enabled': 'true' });
    expect(container(objs).args).toContain('--metrics-secure');
    const configured = parseAllDocuments(readFileSync('config/metrics-secure/metrics_auth_role.yaml', 'utf8')).map((d) => d.toJS() as Obj);
    const reader = parse(readFileSync('config/metrics-secure/metrics_reader_role.yaml', 'utf8')) as Obj;
    const byName = (n: string) => objs.find((o) => o.metadata.name === n)!;
    expect(rules(byName('tandem-metrics-auth-tandem-system'))).toEqual(rules(configured[0]!));
    expect(rules(byName('tandem-metrics-reader-tandem-system'))).toEqual(rules(reader));
    expect(objs.find((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'tandem-metrics-auth-tandem-system')!['subjects']).toEqual([{ kind: 'ServiceAccount', name: 'tandem-controller', namespace: 'tandem-system' }]);
    expect(one(objs, 'ServiceMonitor')['spec'].endpoints[0]).toMatchObject({ scheme: 'https', bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' });
    const plain = template({ 'serviceMonitor.enabled': 'true' });
    expect(container(plain).args).not.toContain('--metrics-secure');
    expect(one(plain, 'ServiceMonitor')['spec'].endpoints[0].scheme).toBeUndefined();
  });
});

describe('Helm chart: admission policy (DESIGN §8)', () => {
  const generated = parseAllDocuments(readFileSync('config/admission/member-authority.yaml', 'utf8')).map((d) => d.toJS() as Obj);

  it('renders config/admission’s policies and bindings, named after the release and its namespace', () => {
    const rendered = new Map(template().filter((o) => o.kind.startsWith('ValidatingAdmissionPolicy')).map((o) => [`${o.kind}/${o.metadata.name}`, o]));
    expect([...rendered.keys()].sort()).toEqual(generated.map((o) => `${o.kind}/${o.metadata.name}-tandem-system`).sort());
    for (const want of generated.map((o) => structuredClone(o))) {
      if (want.kind === 'ValidatingAdmissionPolicyBinding') want['spec'].policyName = `${want['spec'].policyName}-tandem-system`;
      const key = `${want.kind}/${want.metadata.name}-tandem-system`;
      expect(rendered.get(key)?.['spec'], key).toEqual(want['spec']);
    }
  });

  it('admissionPolicy.enabled=false renders none', () => {
    expect(kinds(template({ 'admissionPolicy.enabled': 'false' })).filter((k) => k.startsWith('ValidatingAdmissionPolicy'))).toEqual([]);
  });
});

describe('Helm chart: CRD', () => {
  it('is a template, so upgrades apply it, kept on uninstall unless crds.keep=false, and identical to crds/', () => {
    const crd = one(template({ 'crds.annotations.team': 'platform' }), 'CustomResourceDefinition');
    expect(crd.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep', team: 'platform' });
    const source = parse(readFileSync('crds/rolloutgroup.yaml', 'utf8')) as Obj;
    expect({ ...crd, metadata: { name: crd.metadata.name } }).toEqual(source);
    expect(one(template({ 'crds.keep': 'false' }), 'CustomResourceDefinition').metadata.annotations).toBeUndefined();
    expect(kinds(template({ 'crds.install': 'false' }))).not.toContain('CustomResourceDefinition');
    // Nothing in crds/, which Helm would install once and never upgrade.
    expect(execFileSync(helm, ['show', 'crds', CHART], { encoding: 'utf8' }).trim()).toBe('');
  });
});

describe('Helm chart: pod settings', () => {
  it('imagePullSecrets, priorityClassName, podAnnotations, podLabels, topologySpreadConstraints, log level and format', () => {
    const objs = template(
      {
        'imagePullSecrets[0].name': 'regcred',
        priorityClassName: 'system-cluster-critical',
        'podAnnotations.example\\.com/owner': 'sre',
        'podLabels.team': 'platform',
        'topologySpreadConstraints[0].maxSkew': '1',
        'topologySpreadConstraints[0].topologyKey': 'topology.kubernetes.io/zone',
        'topologySpreadConstraints[0].whenUnsatisfiable': 'ScheduleAnyway',
        'logging.level': 'debug',
        'logging.format': 'text',
      },
      'tandem',
      'tandem-system',
      ['--set-json', 'topologySpreadConstraints[0].labelSelector={"matchLabels":{"app.kubernetes.io/name":"tandem"}}'],
    );
    const pod = one(objs, 'Deployment').spec.template;
    expect(pod.spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(pod.spec.priorityClassName).toBe('system-cluster-critical');
    expect(pod.metadata.annotations).toEqual({ 'kubectl.kubernetes.io/default-container': 'controller', 'example.com/owner': 'sre' });
    expect(pod.metadata.labels).toMatchObject({ team: 'platform', 'app.kubernetes.io/name': 'tandem' });
    // podLabels never reach the selector: it is immutable.
    expect(one(objs, 'Deployment').spec.selector.matchLabels).not.toHaveProperty('team');
    expect(pod.spec.topologySpreadConstraints).toEqual([
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'tandem' } } },
    ]);
    expect(container(objs).args).toEqual(expect.arrayContaining(['--log-level=debug', '--log-format=text']));
    const plain = one(template(), 'Deployment').spec.template.spec;
    for (const k of ['imagePullSecrets', 'priorityClassName', 'topologySpreadConstraints']) expect(plain).not.toHaveProperty(k);
  });

  it('extraEnv adds environment variables after the pod’s own', () => {
    const env = container(template({}, 'tandem', 'tandem-system', ['--set-json', 'extraEnv=[{"name":"NODE_OPTIONS","value":"--max-semi-space-size=16"}]'])).env;
    expect(env.map((e: { name: string }) => e.name)).toEqual(['POD_NAME', 'POD_NAMESPACE', 'NODE_OPTIONS']);
    expect(env[2]).toEqual({ name: 'NODE_OPTIONS', value: '--max-semi-space-size=16' });
    expect(container(template()).env.map((e: { name: string }) => e.name)).toEqual(['POD_NAME', 'POD_NAMESPACE']);
  });

  it('a PodDisruptionBudget only when enabled: maxUnavailable 1 by default, or the one set', () => {
    expect(kinds(template())).not.toContain('PodDisruptionBudget');
    const pdb = (values: Record<string, string>) => one(template({ 'pdb.enabled': 'true', replicaCount: '2', ...values }), 'PodDisruptionBudget').spec;
    const selector = one(template(), 'Deployment').spec.selector;
    expect(pdb({})).toEqual({ maxUnavailable: 1, selector });
    expect(pdb({ 'pdb.minAvailable': '1' })).toEqual({ minAvailable: 1, selector });
    expect(pdb({ 'pdb.maxUnavailable': '50%' })).toEqual({ maxUnavailable: '50%', selector });
  });

  it('ServiceMonitor additionalLabels; the monitor selects the metrics Service', () => {
    const objs = template({ 'serviceMonitor.enabled': 'true', 'serviceMonitor.additionalLabels.release': 'kube-prometheus-stack' });
    const monitor = one(objs, 'ServiceMonitor');
    expect(monitor.metadata.labels?.['release']).toBe('kube-prometheus-stack');
    expect(monitor.spec.selector.matchLabels).toEqual(one(objs, 'Deployment').spec.selector.matchLabels);
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels as Record<string, string>)) expect(one(objs, 'Service').metadata.labels?.[k]).toBe(v);
  });

  it('PrometheusRule: config/prometheus/rules.yaml with this release’s scrape job and additionalLabels', () => {
    const source = parse(readFileSync('config/prometheus/rules.yaml', 'utf8')) as Obj;
    const rule = one(template({ 'prometheusRule.enabled': 'true', 'prometheusRule.additionalLabels.release': 'kube-prometheus-stack' }), 'PrometheusRule');
    expect(rule.metadata.labels?.['release']).toBe('kube-prometheus-stack');
    expect(rule['spec']).toEqual(source['spec']);
    const other = one(template({ 'prometheusRule.enabled': 'true' }, 'shop'), 'PrometheusRule');
    const down = (r: Obj) => (r['spec'].groups[0].rules as { alert: string; expr: string }[]).find((x) => x.alert === 'TandemControllerDown')!.expr;
    expect(down(other)).toBe('absent(up{job="shop-tandem-controller-metrics"} == 1)');
    expect(one(template({ 'prometheusRule.enabled': 'true' }, 'shop'), 'PrometheusRule').metadata.name).toBe('shop-tandem-controller');
    expect(kinds(template())).not.toContain('PrometheusRule');
  });

  it('notifications: a ConfigMap the controller accepts, mounted with the Secret; an existing ConfigMap instead', () => {
    const json = [
      '--set-json', 'notifications.services={"webhook.ci":{"url":"https://ci.example/h","headers":[{"name":"Authorization","value":"Bearer $ci-token"}]},"slack":{"webhookUrl":"$slack-url"}}',
      '--set-json', 'notifications.templates={"mine":{"message":"{{release.id}} of {{group.metadata.name}}"}}',
      '--set-json', 'notifications.triggers={"on-release-completed":[{"send":["mine"]}]}',
      '--set-json', 'notifications.subscriptions=[{"recipients":["ci","slack:deploys"],"triggers":["on-release-waiting","on-release-completed"]}]',
    ];
    const objs = template({ 'notifications.enabled': 'true', 'notifications.secretName': 'tandem-notifications' }, 'tandem', 'tandem-system', json);
    const cm = one(objs, 'ConfigMap');
    expect(cm.metadata.name).toBe('tandem-notifications-cm');
    const parsed = parseConfig(cm['data'], { 'ci-token': 't', 'slack-url': 'https://hooks.slack.example/x' });
    expect(parsed.problems).toBeUndefined();
    expect(parsed.config!.triggers.get('on-release-completed')).toEqual(['mine']);
    expect(parsed.config!.subscriptions).toHaveLength(1);
    const c = container(objs);
    expect(c.args).toEqual(expect.arrayContaining(['--notifications-config-dir=/etc/tandem/notifications', '--notifications-secret-dir=/etc/tandem/notifications-secret']));
    const volumes = one(objs, 'Deployment').spec.template.spec.volumes;
    expect(volumes).toEqual(expect.arrayContaining([{ name: 'notifications', configMap: { name: 'tandem-notifications-cm' } }, { name: 'notifications-secret', secret: { secretName: 'tandem-notifications' } }]));
    expect(c.volumeMounts).toEqual(expect.arrayContaining([{ name: 'notifications', mountPath: '/etc/tandem/notifications', readOnly: true }]));

    const own = template({ 'notifications.enabled': 'true', 'notifications.existingConfigMap': 'mine' });
    expect(kinds(own)).not.toContain('ConfigMap');
    expect(one(own, 'Deployment').spec.template.spec.volumes).toContainEqual({ name: 'notifications', configMap: { name: 'mine' } });
    expect(container(own).args.some((a: string) => a.startsWith('--notifications-secret-dir'))).toBe(false);
    const off = template();
    expect(kinds(off)).not.toContain('ConfigMap');
    expect(container(off).args.some((a: string) => a.startsWith('--notifications'))).toBe(false);
    expect(() => template({ 'notifications.enabled': 'true' }, 'tandem', 'tandem-system', ['--set-json', 'notifications.services={"email":{}}'])).toThrow(/email/);
  });

  it('grafanaDashboard: config/grafana/tandem-dashboard.json in a ConfigMap with the sidecar label', () => {
    const source = JSON.parse(readFileSync('config/grafana/tandem-dashboard.json', 'utf8')) as unknown;
    const cm = one(template({ 'grafanaDashboard.enabled': 'true', 'grafanaDashboard.annotations.grafana_folder': 'Tandem' }), 'ConfigMap');
    expect(cm.metadata.name).toBe('tandem-grafana-dashboard');
    expect(cm.metadata.labels?.['grafana_dashboard']).toBe('1');
    expect(cm.metadata.annotations).toEqual({ grafana_folder: 'Tandem' });
    expect(JSON.parse(cm['data']['tandem.json'])).toEqual(source);
    const other = one(template({ 'grafanaDashboard.enabled': 'true', 'grafanaDashboard.label': 'dashboards', 'grafanaDashboard.labelValue': 'tandem', 'grafanaDashboard.namespace': 'monitoring' }), 'ConfigMap');
    expect(other.metadata).toMatchObject({ namespace: 'monitoring', labels: { dashboards: 'tandem' } });
    expect(kinds(template())).not.toContain('ConfigMap');
  });

  it('values.schema.json refuses a wrong log format and an unknown top-level value', () => {
    expect(() => template({ 'logging.format': 'xml' })).toThrow(/format/);
    expect(() => template({ serviceaccount: 'x' })).toThrow(/serviceaccount/);
  });
});

describe('helm lint --strict', () => {
  it.each([
    ['defaults', {}],
    ['namespaced, no CRD, everything on', { namespaced: 'true', 'crds.install': 'false', 'pdb.enabled': 'true', 'serviceMonitor.enabled': 'true', 'prometheusRule.enabled': 'true', 'notifications.enabled': 'true', 'grafanaDashboard.enabled': 'true', replicaCount: '2' }],
  ])('%s', (_, values: Record<string, string>) => {
    const sets = Object.entries(values).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
    const out = execFileSync(helm, ['lint', '--strict', CHART, ...sets], { encoding: 'utf8' });
    expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });
});
