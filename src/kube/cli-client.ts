import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, Observable, type Cluster, type ConfigurationOptions, type ObservableMiddleware, type User } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../api/rolloutgroup.ts';
import { describe, parseStatusBody } from './call.ts';
import { Follower } from './cli-follow.ts';
import { ClusterWatch } from './cluster-watch.ts';
import { PooledKubeConfig } from './pooled-kubeconfig.ts';

const ARGO = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' } as const;
const TANDEM = { group: GROUP, version: VERSION, plural: PLURAL } as const;

export interface CliClientOptions {
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  /** Defaults to the context's namespace, then `default`, as kubectl does. */
  readonly namespace?: string | undefined;
  /** kubectl's client flags: they override the kubeconfig's server, credentials and impersonation. */
  readonly server?: string | undefined;
  readonly token?: string | undefined;
  readonly as?: string | undefined;
  /** Milliseconds a single request may take; 0 or undefined: no limit. */
  readonly requestTimeoutMs?: number | undefined;
}

/** Base of the errors below: each is a one-line message a user can act on, with the API error as cause. */
export class CliClientError extends Error {}

/** The object asked for does not exist (404 with a NotFound Status naming it). */
export class ObjectNotFoundError extends CliClientError {
  override readonly name = 'ObjectNotFoundError';
}

/** The API server does not serve the resource type at all: the CRD is not installed (404 without a Status). */
export class ResourceTypeNotFoundError extends CliClientError {
  override readonly name = 'ResourceTypeNotFoundError';
}

/** 403: the user's credentials may not do this. */
export class ForbiddenError extends CliClientError {
  override readonly name = 'ForbiddenError';
}

/** Any other failure talking to the API server. */
export class ApiCallError extends CliClientError {
  override readonly name = 'ApiCallError';
}

/** The kubeconfig could not be loaded or names no such context. */
export class KubeconfigError extends CliClientError {
  override readonly name = 'KubeconfigError';
}

/**
 * One-shot reads and request patches for the `kubectl rolloutgroup` plugin: no informers, no cache.
 * Returns plain JSON; callers validate it. Errors are the typed classes above with the API error as cause.
 */
export class CliClient {
  readonly namespace: string;
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly kc: KubeConfig;

  constructor(options: CliClientOptions) {
    const kc = new PooledKubeConfig();
    try {
      if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
      else kc.loadFromDefault();
    } catch (err) {
      throw new KubeconfigError(`cannot load kubeconfig ${options.kubeconfig ?? '(default)'}: ${describe(err)}`, { cause: err });
    }
    if (options.context) {
      if (!kc.getContextObject(options.context)) throw new KubeconfigError(`context "${options.context}" does not exist in the kubeconfig`);
      kc.setCurrentContext(options.context);
    }
    this.namespace = options.namespace || kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
    if (options.server || options.token || options.as) overrideConnection(kc, options);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
    const timeout = options.requestTimeoutMs ? [abortAfter(options.requestTimeoutMs)] : [];
    this.read = { middleware: timeout, middlewareMergeStrategy: 'append' };
    this.merge = { middleware: [...timeout, contentType(PatchStrategy.MergePatch)], middlewareMergeStrategy: 'append' };
    this.kc = kc;
  }

  /** List-watches of a group (and its namespace's Rollouts and Services): see Follower. */
  async follow(name: string, withMembers: boolean): Promise<Follower> {
    const f = new Follower(this.kc, this.namespace, name, withMembers);
    try {
      await f.start();
    } catch (err) {
      await f.stop();
      throw toTypedError(`watch of rolloutgroup ${this.namespace}/${name}${withMembers ? ', its rollouts and services' : ''}`, err);
    }
    return f;
  }

  /** The dashboard's watches of groups, Rollouts, Services and group Events: this namespace, or all. */
  async watchCluster(allNamespaces: boolean): Promise<ClusterWatch> {
    const w = new ClusterWatch(this.kc, allNamespaces ? undefined : this.namespace);
    try {
      await w.start();
    } catch (err) {
      throw toTypedError(allNamespaces ? 'watch of rolloutgroups in all namespaces' : `watch of rolloutgroups in namespace ${this.namespace}`, err);
    }
    return w;
  }

  /** Per-request options: the timeout, and for patches the merge-patch content type. */
  private readonly read: ConfigurationOptions;
  private readonly merge: ConfigurationOptions;

  /** namespace: another than the client's (the dashboard serves several). */
  getGroup(name: string, namespace = this.namespace): Promise<unknown> {
    return call(`rolloutgroup ${namespace}/${name}`, () => this.custom.getNamespacedCustomObject({ ...TANDEM, namespace, name }, this.read));
  }

  async listGroups(allNamespaces = false): Promise<unknown[]> {
    const list = await call(allNamespaces ? 'rolloutgroups in all namespaces' : `rolloutgroups in namespace ${this.namespace}`, () =>
      allNamespaces
        ? this.custom.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, resourcePlural: PLURAL }, this.read)
        : this.custom.listNamespacedCustomObject({ ...TANDEM, namespace: this.namespace }, this.read),
    );
    return (list as { items?: unknown[] }).items ?? [];
  }

  /** Names only, for shell completion. */
  async listGroupNames(): Promise<string[]> {
    return (await this.listGroups()).map((g) => (g as { metadata?: { name?: string } }).metadata?.name ?? '').filter((n) => n !== '');
  }

  async listNamespaceNames(): Promise<string[]> {
    const list = await call('namespaces', () => this.core.listNamespace({}, this.read));
    return list.items.map((n) => n.metadata?.name ?? '').filter((n) => n !== '');
  }

  /** A merge patch of the group's spec (pause, resume): fields a person owns, so no resourceVersion. */
  patchGroupSpec(name: string, spec: Readonly<Record<string, unknown>>): Promise<unknown> {
    return call(`rolloutgroup ${this.namespace}/${name}`, () =>
      this.custom.patchNamespacedCustomObject({ ...TANDEM, namespace: this.namespace, name, body: { spec } }, this.merge),
    );
  }

  /** A member's Rollout, or undefined when it does not exist. */
  getRollout(name: string): Promise<unknown> {
    return orUndefined(call(`rollout ${this.namespace}/${name}`, () => this.custom.getNamespacedCustomObject({ ...ARGO, namespace: this.namespace, name }, this.read)));
  }

  /** A Service as plain JSON, or undefined when it does not exist. */
  async getService(name: string): Promise<unknown> {
    const svc = await orUndefined(call(`service ${this.namespace}/${name}`, () => this.core.readNamespacedService({ name, namespace: this.namespace }, this.read)));
    return svc === undefined ? undefined : JSON.parse(JSON.stringify(svc));
  }

  /**
   * Sets (or with null removes) annotations on a group. A merge patch without resourceVersion: a
   * request must land even while the controller writes the group's status.
   */
  annotateGroup(name: string, annotations: Readonly<Record<string, string | null>>, namespace = this.namespace): Promise<unknown> {
    const body = { metadata: { annotations } };
    return call(`rolloutgroup ${namespace}/${name}`, () =>
      this.custom.patchNamespacedCustomObject({ ...TANDEM, namespace, name, body }, this.merge),
    );
  }
}

/** --server, --token and --as over the kubeconfig's current context, as kubectl applies them. */
function overrideConnection(kc: KubeConfig, o: CliClientOptions): void {
  const cluster: Cluster = kc.getCurrentCluster() ?? { name: 'flags', server: '', skipTLSVerify: false };
  const user: User = kc.getCurrentUser() ?? { name: 'flags' };
  const context = kc.getContextObject(kc.getCurrentContext());
  kc.loadFromOptions({
    clusters: [{ ...cluster, ...(o.server ? { server: o.server } : {}) }],
    users: [{ ...user, ...(o.token ? { token: o.token } : {}), ...(o.as ? { impersonateUser: o.as } : {}) }],
    contexts: [{ name: 'flags', cluster: cluster.name, user: user.name, ...(context?.namespace ? { namespace: context.namespace } : {}) }],
    currentContext: 'flags',
  });
}

/** setHeaderOptions' middleware, to chain with the timeout in one options object. */
function contentType(value: string): ObservableMiddleware {
  return {
    pre: (request) => {
      request.setHeaderParam('Content-Type', value);
      return new Observable(Promise.resolve(request));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
}

/** kubectl's --request-timeout: each request is aborted after this long. */
function abortAfter(ms: number): ObservableMiddleware {
  return {
    pre: (request) => {
      request.setSignal(AbortSignal.timeout(ms));
      return new Observable(Promise.resolve(request));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
}

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
}

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toTypedError(what, err);
  }
}

/** Maps an API error to the class a user can act on. */
function toTypedError(what: string, err: unknown): Error {
  if (!(err instanceof ApiException)) return new ApiCallError(`${what}: ${describe(err)}`, { cause: err });
  const body = parseStatusBody(err.body);
  if (err.code === 404) {
    // A missing object comes with a Status naming it; an unserved resource type gets a bare 404 page.
    if (body?.kind === 'Status' && body.reason === 'NotFound' && body.details?.name) return new ObjectNotFoundError(`${what} not found`, { cause: err });
    return new ResourceTypeNotFoundError(`${what}: the server does not know this resource type; is the CRD installed?`, { cause: err });
  }
  if (err.code === 403) return new ForbiddenError(`${what}: forbidden: ${body?.message ?? 'no permission'}`, { cause: err });
  if (err.code === 401) return new ForbiddenError(`${what}: unauthorized: check the credentials in the kubeconfig`, { cause: err });
  return new ApiCallError(`${what}: ${body?.message ?? `HTTP ${err.code}`}`, { cause: err });
}
