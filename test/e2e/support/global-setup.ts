import { execFileSync, spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { LOG_DIR } from './controller-process.ts';
import { CONTROLLER_NAMESPACE, serviceAccountKubeconfig } from './service-account.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    kubectl: string;
    /** The controller's kubeconfig: config/rbac's ServiceAccount, with a TokenRequest token. */
    controllerKubeconfig: string;
    /** Where the controller's ServiceAccount and lease Role live. */
    controllerNamespace: string;
  }
}

const cluster = (cmd: string) => ['test/cluster/cluster.sh', cmd];

/**
 * Starts the local control plane once for the e2e suite (reusing one already up), installs the CRD,
 * and the controller's RBAC from config/rbac: every e2e controller runs as that ServiceAccount.
 */
export default function setup(project: TestProject) {
  const wasUp = spawnSync('bash', cluster('status'), { stdio: 'ignore' }).status === 0;
  const started = performance.now();
  const out = execFileSync('bash', cluster('up'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const kubeconfig = /KUBECONFIG=(.+)\s*$/.exec(out.trim())?.[1];
  if (!kubeconfig) throw new Error(`cluster up printed no KUBECONFIG line:\n${out}`);
  console.log(`[e2e] cluster ${wasUp ? 'reused' : 'started'} in ${((performance.now() - started) / 1000).toFixed(1)}s`);
  const stackDir = execFileSync('bash', ['-c', '. test/cluster/versions.sh && echo "$STACK_DIR"'], { encoding: 'utf8' }).trim();
  const kubectl = `${stackDir}/bin/kubectl`;
  const k = (...args: string[]) => execFileSync(kubectl, ['--kubeconfig', kubeconfig, ...args], { stdio: 'inherit' });
  k('apply', '--server-side', '--force-conflicts', '-f', 'crds/rolloutgroup.yaml');
  k('wait', '--for=condition=Established', 'crd/rolloutgroups.tandem.dev', '--timeout=60s');
  // The admission policy of a real install (DESIGN §8): every test's groups pass it (test/e2e/security.test.ts).
  k('apply', '--server-side', '--force-conflicts', '-k', 'config/admission');
  project.provide('kubeconfig', kubeconfig);
  project.provide('kubectl', kubectl);
  project.provide('controllerKubeconfig', serviceAccountKubeconfig(kubectl, kubeconfig, LOG_DIR));
  project.provide('controllerNamespace', CONTROLLER_NAMESPACE);
  return () => {
    if (!wasUp && !process.env['TANDEM_KEEP_CLUSTER']) execFileSync('bash', cluster('down'), { stdio: 'inherit' });
  };
}
