import type { Logger } from 'pino';
import type { KubeGateway } from '../kube/gateway.ts';
import { serve, text, type RunningServer } from '../runtime/http-server.ts';
import { LeaderElector, type LeaderElectionTimings } from '../runtime/leader-election.ts';
import { ControllerMetrics } from '../runtime/metrics.ts';
import { metricsGuard } from '../runtime/secure-metrics.ts';
import { servingCert } from '../runtime/serving-cert.ts';
import { CONTROLLER_NAME, runController } from './controller.ts';
import type { AuthorityPolicy } from '../planner/authority.ts';
import { ConfigDir } from '../notifications/config-dir.ts';
import { Notifier } from '../notifications/notifier.ts';
import { httpSender } from '../notifications/send.ts';

export interface ManagerOptions {
  readonly gateway: KubeGateway;
  readonly clusterDomain: string;
  readonly authority?: AuthorityPolicy | undefined;
  readonly concurrency: number;
  readonly log: Logger;
  readonly identity: string;
  readonly metricsBindAddress: string;
  /** Serve /metrics over TLS to callers TokenReview and SubjectAccessReview accept (docs/security.md). */
  readonly metricsSecure?: boolean | undefined;
  /** tls.crt and tls.key for the secure metrics server; self-signed when absent. */
  readonly metricsCertDir?: string | undefined;
  readonly healthProbeBindAddress: string;
  /** Undefined: no leader election, this process always acts. */
  readonly leaderElection?: { readonly namespace: string; readonly name: string; readonly timings: LeaderElectionTimings } | undefined;
  readonly failpoint?: string | undefined;
  /** The notifications ConfigMap and Secret, mounted as directories (docs/notifications.md); none: no notifications. */
  readonly notifications?: { readonly configDir: string; readonly secretDir?: string | undefined } | undefined;
  /** Called when leadership is lost; must end the process (controller-runtime exits "for safety"). */
  readonly onLeadershipLost: () => never;
}

/**
 * What controller-runtime's manager does around the controller: metrics and probe servers, caches,
 * leader election (acting only while leading), and an orderly stop: the reconciles in flight
 * finish while the lease is still renewed, then the lease is released.
 */
export async function runManager(o: ManagerOptions, signal: AbortSignal): Promise<void> {
  const { log } = o;
  const metrics = new ControllerMetrics(CONTROLLER_NAME, o.concurrency);
  let synced = false;
  const servers: RunningServer[] = [];
  const add = (s: RunningServer | undefined) => s && servers.push(s);
  const secure = o.metricsSecure
    ? {
        tls: await servingCert(o.metricsCertDir),
        guard: metricsGuard({ authenticate: (t) => o.gateway.reviewToken(t), authorize: (c, verb, path) => o.gateway.mayAccess(c, verb, path) }),
      }
    : {};
  add(
    await serve('metrics', o.metricsBindAddress, { '/metrics': async () => ({ status: 200, contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }) }, log, secure),
  );
  add(
    await serve(
      'health',
      o.healthProbeBindAddress,
      {
        '/healthz': () => text(200, 'ok\n'),
        // A standby is ready too: its caches are warm and it takes over when the leader goes.
        '/readyz': () => (synced ? text(200, 'ok\n') : text(503, 'caches not synced\n')),
      },
      log,
    ),
  );

  const le = o.leaderElection;
  const elector = le ? new LeaderElector({ store: o.gateway.leaseStore(le.namespace, le.name), identity: o.identity, timings: le.timings, log }) : undefined;
  const stopRenewing = new AbortController();
  let renewing: Promise<unknown> = Promise.resolve();
  const waitForLeadership = elector
    ? async (s: AbortSignal) => {
        log.info({ lease: `${le!.namespace}/${le!.name}`, identity: o.identity }, 'attempting to acquire leader lease');
        metrics.leader(le!.name, false);
        if (!(await elector.acquire(s))) return false;
        metrics.leader(le!.name, true);
        renewing = elector.keepLeading(stopRenewing.signal).then((r) => r === 'lost' && o.onLeadershipLost());
        return true;
      }
    : undefined;
  try {
    await runController(
      {
        gateway: o.gateway,
        clusterDomain: o.clusterDomain,
        authority: o.authority,
        concurrency: o.concurrency,
        log,
        failpoint: o.failpoint,
        metrics,
        notifier: notifierOf(o),
        onSynced: () => (synced = true),
        ...(waitForLeadership ? { waitForLeadership } : {}),
      },
      signal,
    );
  } finally {
    stopRenewing.abort();
    await renewing;
    await elector?.release();
    await Promise.all(servers.map((s) => s.close()));
  }
}

function notifierOf(o: ManagerOptions): Notifier | undefined {
  const n = o.notifications;
  if (!n) return undefined;
  const dir = new ConfigDir(n.configDir, n.secretDir);
  return new Notifier({ port: o.gateway, config: () => dir.load(), send: httpSender(), log: o.log });
}
