import type { ControllerProcess } from './controller-process.ts';
import type { TestKube } from './kube.ts';
import { sample, total } from './metrics-text.ts';
import { waitFor } from './wait.ts';

const RG = { controller: 'rolloutgroup' };
const QUEUE = { name: 'rolloutgroup', controller: 'rolloutgroup' };

/** Resolves with the controller's count of finished reconciles once it is idle with at least `atLeast` of them. */
export function idleAfter(controller: ControllerProcess, atLeast = 0, dump: () => Promise<string> = async () => controller.tail(30)): Promise<number> {
  return waitFor(`controller idle after ${atLeast} reconciles`, async () => {
    const t = (await controller.get('metrics', '/metrics')).body;
    const idle = sample(t, 'controller_runtime_active_workers', RG) === 0 && sample(t, 'workqueue_depth', QUEUE) === 0;
    const reconciles = total(t, 'controller_runtime_reconcile_total', RG);
    return idle && reconciles >= atLeast ? reconciles : undefined;
  }, { dump });
}

/**
 * The positive signal behind "nothing happened": once the controller is idle, a probe annotation on
 * each group makes it plan them again; resolves when that many reconciles have finished since and its
 * queue is idle again. What a test reads next is what the controller decided to leave as it is.
 */
export async function plannedAgain(controller: ControllerProcess, kube: TestKube, namespace: string, groups: readonly string[], dump?: () => Promise<string>): Promise<void> {
  const before = await idleAfter(controller, 0, dump);
  for (const g of groups) await kube.annotateGroup(namespace, g, { 'e2e.tandem.dev/probe': `${Date.now()}` });
  await idleAfter(controller, before + groups.length, dump);
}
