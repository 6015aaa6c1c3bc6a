import type { RolloutGroupStatus } from '../api/rolloutgroup.ts';
import type { PodTemplate } from './template-restore.ts';
import type { EventReason } from './reasons.ts';
import type { DesiredMetadata } from './wiring.ts';

/** A write the controller makes. Rollout writes carry the resourceVersion they were planned from. */
export type Action =
  | { readonly kind: 'AddFinalizer' }
  | { readonly kind: 'RemoveFinalizer' }
  /** Server-side apply of exactly these annotations under Tandem's field manager; {} releases them all. */
  | { readonly kind: 'ApplyMetadata'; readonly rollout: string; readonly strategy: 'blueGreen' | 'canary'; readonly metadata: DesiredMetadata }
  /** `{"status":{"pauseConditions":null}}` on /status, as `kubectl argo rollouts promote` sends it. */
  | { readonly kind: 'Promote'; readonly rollout: string; readonly resourceVersion: string }
  /**
   * Pins addresses to one revision: merge-patches `annotations` (null removes a key) onto the pod
   * template of the member's ReplicaSet, then onto that ReplicaSet's pods (pins.ts). A key that is
   * no pin is Argo's own, written only with the value Argo has injected already (a pin handing over).
   */
  | {
      readonly kind: 'Pin';
      readonly rollout: string;
      readonly replicaSet: string;
      readonly revision: string;
      readonly annotations: Readonly<Record<string, string | null>>;
      /**
       * Onto the pods only: a ReplicaSet a rollback returns to must keep the template Argo made it
       * from, or Argo takes the restored template for a hash collision and starts a new revision.
       */
      readonly podsOnly?: true;
      /**
       * Onto the template only: the pods keep what they have. A pin kept on a revision's pods while
       * the data plane still routes to them must leave its template, which Argo CD's self-heal would
       * otherwise meet as a hash collision when it re-applies that revision.
       */
      readonly templateOnly?: true;
    }
  /** A metadata-only write that makes Argo Rollouts look at a Rollout again (argo-nudge.ts). */
  | { readonly kind: 'Nudge'; readonly rollout: string }
  | { readonly kind: 'Abort'; readonly rollout: string; readonly resourceVersion: string }
  /** `{"status":{"abort":false}}`: Argo restarts the aborted update (`kubectl argo rollouts retry`). */
  | { readonly kind: 'Retry'; readonly rollout: string; readonly resourceVersion: string }
  /** Replaces `spec.template` (Argo's `undo`): back to `revision`, or forward again on a retry. */
  | { readonly kind: 'RestoreTemplate'; readonly rollout: string; readonly resourceVersion: string; readonly revision: string; readonly template: PodTemplate }
  /**
   * Creates a group AnalysisRun (analysis.ts), owned by the group; one that exists already by this
   * name is left as it is, so planning it twice (a crash, a cache behind) creates it once.
   */
  | { readonly kind: 'CreateAnalysisRun'; readonly name: string; readonly labels: Readonly<Record<string, string>>; readonly spec: Readonly<Record<string, unknown>> }
  /**
   * Stops a group AnalysisRun its release no longer needs (Argo's way: `spec.terminate: true`), with
   * TERMINATED_ANNOTATION saying why, so its "Run Terminated" Successful is never taken for a verdict.
   */
  | { readonly kind: 'TerminateAnalysisRun'; readonly name: string; readonly reason: string };

export type { EventReason } from './reasons.ts';

export interface PlannedEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: EventReason;
  readonly message: string;
}

/** A handled request annotation, removed only if it still holds the value that was handled. */
export interface HandledRequest {
  readonly annotation: string;
  readonly value: string;
}

export interface Plan {
  /** In order: each is done only after the previous one succeeded. */
  readonly actions: readonly Action[];
  /** The whole status to persist, or undefined when the group is going away. */
  readonly status: RolloutGroupStatus | undefined;
  /** Removed after the status is persisted, so a crash in between loses no request. */
  readonly handledRequests: readonly HandledRequest[];
  /** Emitted after the status is persisted: they describe transitions recorded there. */
  readonly events: readonly PlannedEvent[];
  readonly requeueAfterMs: number | undefined;
  /**
   * Members Argo has yet to act on, when nothing is decided until it has: `requeueAfterMs` is then
   * only a poll for what a watch event of those Rollouts shows (the controller may wait for it).
   */
  readonly waitingForArgo?: readonly string[];
}
