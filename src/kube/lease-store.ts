import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { LeaseRecord, LeaseStore } from '../runtime/leader-election.ts';
import { call } from './call.ts';
import { isNotFound } from './errors.ts';

/** One coordination.k8s.io/v1 Lease, read and written with resourceVersion preconditions. */
export class KubeLeaseStore implements LeaseStore {
  private readonly api: CoordinationV1Api;
  private readonly namespace: string;
  private readonly name: string;

  constructor(kc: KubeConfig, namespace: string, name: string) {
    this.api = kc.makeApiClient(CoordinationV1Api);
    this.namespace = namespace;
    this.name = name;
  }

  async get(): Promise<{ record: LeaseRecord; resourceVersion: string } | undefined> {
    const { namespace, name } = this;
    try {
      const lease = await call(`get lease ${namespace}/${name}`, () => this.api.readNamespacedLease({ namespace, name }));
      return { record: toRecord(lease), resourceVersion: lease.metadata?.resourceVersion ?? '' };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async create(record: LeaseRecord): Promise<void> {
    const { namespace, name } = this;
    await call(`create lease ${namespace}/${name}`, () => this.api.createNamespacedLease({ namespace, body: this.body(record) }));
  }

  async update(record: LeaseRecord, resourceVersion: string): Promise<void> {
    const { namespace, name } = this;
    await call(`update lease ${namespace}/${name}`, () => this.api.replaceNamespacedLease({ namespace, name, body: this.body(record, resourceVersion) }));
  }

  private body(r: LeaseRecord, resourceVersion?: string): V1Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, ...(resourceVersion ? { resourceVersion } : {}) },
      spec: {
        holderIdentity: r.holderIdentity,
        leaseDurationSeconds: r.leaseDurationSeconds,
        // MicroTime: the API server wants six fractional digits, which V1MicroTime writes.
        acquireTime: new V1MicroTime(r.acquireTime),
        renewTime: new V1MicroTime(r.renewTime),
        leaseTransitions: r.leaseTransitions,
      },
    };
  }
}

function toRecord(lease: V1Lease): LeaseRecord {
  const s = lease.spec ?? {};
  const time = (t: unknown) => (t instanceof Date ? t.toISOString() : typeof t === 'string' ? t : '');
  return {
    holderIdentity: s.holderIdentity ?? '',
    leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
    acquireTime: time(s.acquireTime),
    renewTime: time(s.renewTime),
    leaseTransitions: s.leaseTransitions ?? 0,
  };
}
