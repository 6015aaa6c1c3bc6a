import { readFileSync } from 'node:fs';

const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The pod's namespace: POD_NAMESPACE (Downward API), else the service account's; undefined outside a pod. */
export function inClusterNamespace(env: NodeJS.ProcessEnv = process.env, file = SA_NAMESPACE_FILE): string | undefined {
  const fromEnv = env['POD_NAMESPACE']?.trim();
  if (fromEnv) return fromEnv;
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
