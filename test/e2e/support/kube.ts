/** The test's own client: what a user (kubectl, Argo CD, a CI job) does to the cluster. */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { waitFor } from './wait.ts';

export const ARGO = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' } as const;
export const TANDEM = { group: 'tandem.dev', version: 'v1alpha1', plural: 'rolloutgroups' } as const;
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

// Loosely typed views of what tests read.
export interface RolloutObj {
  metadata: { name: string; generation: number; resourceVersion: string; annotations?: Record<string, string> };
  spec: Record<string, any>;
  status?: Record<string, any>;
}
export interface GroupObj {
  metadata: { name: string; resourceVersion: string; annotations?: Record<string, string>; finalizers?: string[] };
  spec: Record<string, any>;
  status?: {
    phase?: string;
    message?: string;
    readyMembers?: string;
    observedGeneration?: number;
    release?: { id: string; state?: string; abortReason?: string; held?: string[]; pinned?: string[]; promotedMembers?: string[]; readyAt?: string; promotedAt?: string; abortedAt?: string; stage?: number; stages?: number; rolledBack?: string[]; retries?: number; targets: { rollout: string; revision: string }[] };
    members?: { rollout: string; state: string; desiredRevision?: string; stableRevision?: string }[];
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

export class TestKube {
  readonly kc = new KubeConfig();
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly custom: CustomObjectsApi;
  readonly objects: KubernetesObjectApi;
  readonly kubeconfig: string;

  constructor(kubeconfig: string) {
    this.kubeconfig = kubeconfig;
    this.kc.loadFromFile(kubeconfig);
    this.core = this.kc.makeApiClient(CoreV1Api);
    this.apps = this.kc.makeApiClient(AppsV1Api);
    this.custom = this.kc.makeApiClient(CustomObjectsApi);
    this.objects = KubernetesObjectApi.makeApiClient(this.kc);
  }

  /** A fresh namespace, ready for pods (its default ServiceAccount exists). */
  async namespace(prefix: string): Promise<string> {
    const name = `${prefix}-${randomBytes(3).toString('hex')}`;
    await this.core.createNamespace({ body: { metadata: { name } } });
    await waitFor(`ServiceAccount default in ${name}`, () => this.core.readNamespacedServiceAccount({ name: 'default', namespace: name }));
    return name;
  }

  async deleteNamespace(name: string): Promise<void> {
    await this.core.deleteNamespace({ name }).catch(() => undefined);
  }

  /** Server-side apply of every document in a YAML text, as `kubectl apply --server-side` would. */
  async apply(namespace: string, yamlText: string, fieldManager = 'e2e-user'): Promise<void> {
    for (const doc of parseAllDocuments(yamlText)) {
      const obj = doc.toJS() as KubernetesObject | null;
      if (!obj) continue;
      obj.metadata = { ...obj.metadata, namespace };
      await this.objects.patch(obj, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
    }
  }

  applyFile(namespace: string, path: string, edit: (text: string) => string = (t) => t): Promise<void> {
    return this.apply(namespace, edit(readFileSync(path, 'utf8')));
  }

  async rollout(namespace: string, name: string): Promise<RolloutObj> {
    return (await this.custom.getNamespacedCustomObject({ ...ARGO, namespace, name })) as RolloutObj;
  }

  async group(namespace: string, name: string): Promise<GroupObj> {
    return (await this.custom.getNamespacedCustomObject({ ...TANDEM, namespace, name })) as GroupObj;
  }

  async groupOrUndefined(namespace: string, name: string): Promise<GroupObj | undefined> {
    return this.group(namespace, name).catch((e: { code?: number }) => {
      if (e.code === 404) return undefined;
      throw e;
    });
  }

  /** A new image for a Rollout's first container: a new revision, as a Git change would make. */
  async setImage(namespace: string, name: string, image: string): Promise<void> {
    await this.custom.patchNamespacedCustomObject(
      { ...ARGO, namespace, name, body: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: image }] },
      JSON_PATCH,
    );
  }

  async patchRollout(namespace: string, name: string, body: object): Promise<void> {
    await this.custom.patchNamespacedCustomObject({ ...ARGO, namespace, name, body }, MERGE);
  }

  async patchRolloutStatus(namespace: string, name: string, status: object): Promise<void> {
    await this.custom.patchNamespacedCustomObjectStatus({ ...ARGO, namespace, name, body: { status } }, MERGE);
  }

  async annotateGroup(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    await this.custom.patchNamespacedCustomObject({ ...TANDEM, namespace, name, body: { metadata: { annotations } } }, MERGE);
  }

  async deleteGroup(namespace: string, name: string): Promise<void> {
    await this.custom.deleteNamespacedCustomObject({ ...TANDEM, namespace, name });
  }

  async events(namespace: string, involved: string): Promise<{ reason: string; type: string; message: string }[]> {
    const list = await this.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${involved}` });
    return list.items.map((e) => ({ reason: e.reason ?? '', type: e.type ?? '', message: e.message ?? '' }));
  }

  /** A compact picture of a group and its members, for timeout messages. */
  async describe(namespace: string, group: string, members: readonly string[]): Promise<string> {
    const lines: string[] = [];
    const g = await this.groupOrUndefined(namespace, group);
    lines.push(`group ${group}: ${JSON.stringify(g?.status ?? null)}`);
    lines.push(`group annotations: ${JSON.stringify(g?.metadata.annotations ?? {})}`);
    for (const m of members) {
      const r = await this.rollout(namespace, m).catch(() => undefined);
      const s = r?.status ?? {};
      lines.push(
        `rollout ${m}: gen=${r?.metadata.generation} observed=${s['observedGeneration']} phase=${s['phase']} msg=${s['message']} ` +
          `current=${s['currentPodHash']} stable=${s['stableRS']} pause=${JSON.stringify(s['pauseConditions'] ?? null)} ` +
          `controllerPause=${s['controllerPause']} abort=${s['abort']} bg=${JSON.stringify(s['blueGreen'] ?? {})}`,
      );
    }
    return lines.join('\n');
  }
}
