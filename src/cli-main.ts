// `tandem`: the controller, plus the plugin's commands; loaded by src/cli.ts once the Node version is known to be supported.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { runManager } from './controller/manager.ts';
import { KubeGateway, LIST_PAGE_SIZE } from './kube/gateway.ts';
import { inClusterNamespace } from './kube/in-cluster.ts';
import { createLogger, LOG_FORMATS, type LogFormat } from './log.ts';
import { AUTHORIZED_GROUP_ANNOTATION } from './api/rolloutgroup.ts';
import { addPluginCommands, durationOption, runProgram } from './plugin/commands.ts';
import { DEFAULT_TIMINGS, timingsProblem } from './runtime/leader-election.ts';

const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};
const nonNegativeInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
};
const seconds = (ms: number) => `${ms / 1000}s`;
const prefixList = (v: string): string[] => {
  const list = v.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  if (list.length === 0) throw new InvalidArgumentError('must name at least one prefix');
  return list;
};

interface ControllerFlags {
  kubeconfig?: string;
  namespace?: string;
  clusterDomain: string;
  annotationPrefixes: string[];
  requireMemberConsent: boolean;
  concurrency: number;
  listPageSize: number;
  logLevel: string;
  logFormat: LogFormat;
  metricsBindAddress: string;
  metricsSecure: boolean;
  metricsCertDir?: string;
  healthProbeBindAddress: string;
  leaderElect: boolean;
  leaderElectionNamespace?: string;
  leaderElectionId: string;
  leaderElectLeaseDuration: number;
  leaderElectRenewDeadline: number;
  leaderElectRetryPeriod: number;
  notificationsConfigDir?: string;
  notificationsSecretDir?: string;
}

const program = new Command('tandem').description('Coordinates Argo Rollouts across dependent services');

program
  .command('controller')
  .description('run the RolloutGroup controller')
  .option('--kubeconfig <path>', 'kubeconfig file (default: in-cluster config, then $KUBECONFIG or ~/.kube/config)')
  .option('-n, --namespace <ns>', 'watch only this namespace (default: all namespaces)')
  .option('--cluster-domain <domain>', 'cluster DNS domain used in the addresses Tandem writes', 'cluster.local')
  .option('--annotation-prefixes <prefixes>', 'comma-separated: every pod annotation key a group names must start with one of these (default: any key outside kubernetes.io, k8s.io, argoproj.io)', prefixList, [])
  .option('--require-member-consent', `drive a member only if its Rollout is annotated ${AUTHORIZED_GROUP_ANNOTATION}=<group> (for clusters without ValidatingAdmissionPolicy; docs/security.md)`, false)
  // 16: a reconcile mostly waits on API writes (one process, one thread); at 4, the workers were
  // all busy waiting through a release storm of 100 groups while work queued (docs/performance.md).
  .option('--concurrency <n>', 'groups reconciled at once', positiveInt, 16)
  // Paged: a whole list of thousands of objects is one body of tens of MB at start-up (docs/performance.md).
  .option('--list-page-size <n>', 'objects per page of the caches\' lists (0: each kind in one request)', nonNegativeInt, LIST_PAGE_SIZE)
  .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error']).default('info'))
  .addOption(new Option('--log-format <format>', 'json: one object a line; text: for a person at a terminal').choices(LOG_FORMATS).default('json'))
  .option('--metrics-bind-address <addr>', 'address of /metrics: host:port, :port for every interface, 0 for off', '127.0.0.1:8080')
  .option('--metrics-secure', 'serve /metrics over HTTPS, only to callers whose token passes TokenReview and a SubjectAccessReview for get /metrics', false)
  .option('--metrics-cert-dir <dir>', 'with --metrics-secure: directory holding tls.crt and tls.key (default: a self-signed certificate)')
  .option('--health-probe-bind-address <addr>', 'address of /healthz and /readyz: host:port, :port or 0', '127.0.0.1:8081')
  .option('--leader-elect', 'act only while holding a coordination.k8s.io Lease (run several replicas)', false)
  .option('--leader-election-namespace <ns>', 'namespace of the Lease (default: the pod namespace, from POD_NAMESPACE or the service account)')
  .option('--leader-election-id <name>', 'name of the Lease', 'tandem-controller-leader')
  .addOption(durationOption('--leader-elect-lease-duration <d>', 'how long a standby waits before taking an unrenewed lease', DEFAULT_TIMINGS.leaseDurationMs))
  .addOption(durationOption('--leader-elect-renew-deadline <d>', 'how long the leader retries renewing before it gives up and exits', DEFAULT_TIMINGS.renewDeadlineMs))
  .addOption(durationOption('--leader-elect-retry-period <d>', 'interval between acquire and renew attempts', DEFAULT_TIMINGS.retryPeriodMs))
  .option('--notifications-config-dir <dir>', 'the notifications ConfigMap mounted as a directory: services, templates, triggers, subscriptions (docs/notifications.md; default: no notifications)')
  .option('--notifications-secret-dir <dir>', 'the notifications Secret mounted as a directory: values for $key in the services')
  .action(async (opts: ControllerFlags) => {
    const log = createLogger(opts.logLevel, opts.logFormat);
    // hostname + uuid, as client-go: two processes on one host must not share an identity.
    const identity = `${process.env['POD_NAME'] ?? hostname()}_${randomUUID()}`;
    const gateway = new KubeGateway({ kubeconfig: opts.kubeconfig, namespace: opts.namespace, log, identity, listPageSize: opts.listPageSize });
    let leaderElection;
    if (opts.leaderElect) {
      const namespace = opts.leaderElectionNamespace ?? inClusterNamespace();
      if (!namespace) return program.error('--leader-elect needs --leader-election-namespace when not running in a pod');
      const timings = { leaseDurationMs: opts.leaderElectLeaseDuration, renewDeadlineMs: opts.leaderElectRenewDeadline, retryPeriodMs: opts.leaderElectRetryPeriod };
      const problem = timingsProblem(timings);
      if (problem) return program.error(problem);
      leaderElection = { namespace, name: opts.leaderElectionId, timings };
    }
    if (opts.notificationsSecretDir && !opts.notificationsConfigDir) return program.error('--notifications-secret-dir needs --notifications-config-dir');
    const stop = new AbortController();
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.once(sig, () => {
        log.info({ signal: sig }, 'shutting down; finishing reconciles in flight');
        stop.abort();
      });
    }
    log.info(
      {
        namespace: opts.namespace ?? '*',
        clusterDomain: opts.clusterDomain,
        annotationPrefixes: opts.annotationPrefixes,
        requireMemberConsent: opts.requireMemberConsent,
        notifications: opts.notificationsConfigDir ?? false,
        identity,
        leaderElection: leaderElection
          ? { lease: `${leaderElection.namespace}/${leaderElection.name}`, leaseDuration: seconds(opts.leaderElectLeaseDuration), renewDeadline: seconds(opts.leaderElectRenewDeadline), retryPeriod: seconds(opts.leaderElectRetryPeriod) }
          : false,
      },
      'controller starting',
    );
    const failpoint = process.env['TANDEM_FAILPOINT'];
    if (failpoint) log.warn({ failpoint }, 'failpoint armed: this process will crash on purpose');
    await runManager(
      {
        gateway,
        clusterDomain: opts.clusterDomain,
        authority: { annotationPrefixes: opts.annotationPrefixes, requireConsent: opts.requireMemberConsent },
        concurrency: opts.concurrency,
        log,
        identity,
        metricsBindAddress: opts.metricsBindAddress,
        metricsSecure: opts.metricsSecure,
        metricsCertDir: opts.metricsCertDir,
        healthProbeBindAddress: opts.healthProbeBindAddress,
        leaderElection,
        failpoint,
        notifications: opts.notificationsConfigDir ? { configDir: opts.notificationsConfigDir, secretDir: opts.notificationsSecretDir } : undefined,
        onLeadershipLost: () => {
          log.fatal({ identity }, 'leadership lost; exiting');
          process.exit(1);
        },
      },
      stop.signal,
    );
    log.info({}, 'controller stopped');
  });

// The kubectl plugin's commands, also as `tandem get|list|promote|abort|retry|status|lint`.
addPluginCommands(program);

await runProgram(program, process.argv);
