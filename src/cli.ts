#!/usr/bin/env node
import { hostname } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { runController } from './controller/controller.ts';
import { KubeGateway } from './kube/gateway.ts';
import { createLogger } from './log.ts';
import { addPluginCommands, runProgram } from './plugin/commands.ts';

const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

const program = new Command('tandem').description('Coordinates Argo Rollouts across dependent services');

program
  .command('controller')
  .description('run the RolloutGroup controller')
  .option('--kubeconfig <path>', 'kubeconfig file (default: in-cluster config, then $KUBECONFIG or ~/.kube/config)')
  .option('-n, --namespace <ns>', 'watch only this namespace (default: all namespaces)')
  .option('--cluster-domain <domain>', 'cluster DNS domain used in the addresses Tandem writes', 'cluster.local')
  .option('--concurrency <n>', 'groups reconciled at once', positiveInt, 4)
  .option('--log-level <level>', 'trace, debug, info, warn or error', 'info')
  .action(async (opts: { kubeconfig?: string; namespace?: string; clusterDomain: string; concurrency: number; logLevel: string }) => {
    const log = createLogger(opts.logLevel);
    const identity = process.env['POD_NAME'] ?? `${hostname()}-${process.pid}`;
    const gateway = new KubeGateway({ kubeconfig: opts.kubeconfig, namespace: opts.namespace, log, identity });
    const stop = new AbortController();
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.once(sig, () => {
        log.info({ signal: sig }, 'shutting down; finishing reconciles in flight');
        stop.abort();
      });
    }
    log.info({ namespace: opts.namespace ?? '*', clusterDomain: opts.clusterDomain, identity }, 'controller starting');
    const failpoint = process.env['TANDEM_FAILPOINT'];
    if (failpoint) log.warn({ failpoint }, 'failpoint armed: this process will crash on purpose');
    await runController({ gateway, clusterDomain: opts.clusterDomain, concurrency: opts.concurrency, log, failpoint }, stop.signal);
    log.info({}, 'controller stopped');
  });

// The kubectl plugin's commands, also as `tandem get|list|promote|abort|retry|status|lint`.
addPluginCommands(program);

await runProgram(program, process.argv);
