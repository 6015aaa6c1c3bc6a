import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CliClient } from '../kube/cli-client.ts';
import { startDashboard } from './server.ts';

export interface DashboardFlags {
  readonly port: number;
  readonly address: string;
  readonly allNamespaces: boolean;
}

/** Where the single executable unpacks the UI it carries (src/plugin/sea-entry.ts). */
export const DASHBOARD_UI_ENV = 'TANDEM_DASHBOARD_UI';

/** The built UI: beside the compiled server (dist/dashboard-ui), or dist/ when run from src/. */
function staticDir(): string {
  const unpacked = process.env[DASHBOARD_UI_ENV];
  if (unpacked) return unpacked;
  for (const rel of ['../dashboard-ui/', '../../dist/dashboard-ui/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  return fileURLToPath(new URL('../dashboard-ui/', import.meta.url));
}

/** `dashboard`: serves the UI until SIGINT/SIGTERM, acting with the kubeconfig's credentials. */
export async function runDashboard(client: CliClient, flags: DashboardFlags): Promise<void> {
  const watch = await client.watchCluster(flags.allNamespaces);
  const namespace = flags.allNamespaces ? undefined : client.namespace;
  let dashboard;
  try {
    dashboard = await startDashboard({ source: watch, client, namespace, address: flags.address, port: flags.port, staticDir: staticDir() });
  } catch (err) {
    await watch.stop();
    throw err;
  }
  process.stdout.write(`Tandem dashboard at ${dashboard.url} (${namespace === undefined ? 'all namespaces' : `namespace ${namespace}`}); Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await dashboard.close();
  await watch.stop();
}
