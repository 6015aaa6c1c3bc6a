/**
 * What the dashboard server pushes to the page (one JSON document per change) and what the page
 * posts back. Types only: the web bundle imports them too.
 */

export type ActionName = 'promote' | 'abort' | 'retry';

/** Whether an action can be requested now, and what exactly it would write (shown in the confirmation). */
export type ActionView =
  | { readonly available: true; readonly summary: string; readonly annotation: string; readonly value: string }
  | { readonly available: false; readonly why: string };

export interface ServiceView {
  readonly role: 'active' | 'preview' | 'stable' | 'canary';
  readonly name: string;
  readonly exists: boolean;
  /** The pod-template-hash its selector holds. */
  readonly selects?: string;
}

export interface MemberView {
  readonly rollout: string;
  readonly strategy?: string;
  /** The Rollout's own phase. */
  readonly phase?: string;
  readonly stableRevision?: string;
  readonly desiredRevision?: string;
  readonly images: readonly string[];
  /** Tandem's state of the member (Stable, Deploying, Ready, …), or Unknown before the first status. */
  readonly state: string;
  /** 1-based place in the promotion order. */
  readonly promotionIndex: number;
  /** Part of the release in flight. */
  readonly inRelease: boolean;
  readonly services: readonly ServiceView[];
  /** The Rollout does not exist (or cannot be read). */
  readonly missing: boolean;
}

/** One side of a dependency edge: the address one role of the dependent's pods is told to call. */
export interface AddressView {
  /** The dependent's pods of this role: preview/active (blue-green), canary/stable. */
  readonly role: 'preview' | 'active' | 'canary' | 'stable';
  /** The URL in the dependent's ephemeral metadata; undefined when none is written. */
  readonly url?: string;
  /** The dependency's Service the URL names, and its role there. */
  readonly service?: string;
  readonly targetRole?: 'preview' | 'active' | 'canary' | 'stable' | 'other';
}

export interface EdgeView {
  /** The dependent: it calls `to`. */
  readonly from: string;
  readonly to: string;
  readonly annotation: string;
  readonly newSide: AddressView;
  readonly liveSide: AddressView;
  /** The live side is pointed at the dependency's new pods: the cutover's repoint (DESIGN §4a). */
  readonly repointed: boolean;
}

export interface TimelineEntry {
  readonly at: string;
  readonly what: string;
  readonly detail?: string;
  readonly tone: 'info' | 'good' | 'warn' | 'bad';
}

export interface ConditionView {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
}

export interface EventView {
  readonly type: string;
  readonly reason: string;
  readonly message: string;
  readonly count: number;
  readonly last: string;
}

/** A group AnalysisRun of the release (docs/analysis.md), as the status records it. */
export interface AnalysisRunView {
  readonly name: string;
  /** prePromotion, postPromotion or barrier, and the stage (1-based) it belongs to. */
  readonly point: string;
  readonly stage: number;
  readonly phase: string;
  /** The metrics that decided, with their last value. */
  readonly message?: string;
  /** An inconclusive run a person let pass. */
  readonly accepted: boolean;
}

export interface ReleaseView {
  readonly id: string;
  readonly state: string;
  readonly stage: number;
  readonly stages: number;
  readonly startedAt: string;
  readonly readyAt?: string;
  readonly promotedAt?: string;
  readonly openedBy?: string;
  readonly abortedAt?: string;
  readonly abortReason?: string;
  readonly promotedMembers: readonly string[];
  readonly rolledBack: readonly string[];
  readonly targets: readonly { readonly rollout: string; readonly revision: string; readonly from?: string }[];
  readonly analysisRuns: readonly AnalysisRunView[];
}

export interface GroupSummary {
  /** `namespace/name`. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly strategy: string;
  readonly phase: string;
  readonly message: string;
  readonly releaseId?: string;
  readonly releaseState?: string;
  readonly readyMembers: string;
  readonly createdAt?: string;
  readonly memberCount: number;
}

export interface GroupView extends GroupSummary {
  readonly order?: string;
  readonly paused: boolean;
  readonly autoPromotion: boolean;
  /** The spec change the status describes is observed (else the status lags the spec). */
  readonly observed: boolean;
  readonly release?: ReleaseView;
  readonly members: readonly MemberView[];
  readonly edges: readonly EdgeView[];
  readonly conditions: readonly ConditionView[];
  readonly events: readonly EventView[];
  readonly timeline: readonly TimelineEntry[];
  /** Request annotations on the group not yet handled by the controller. */
  readonly pending: Readonly<Record<string, string>>;
  readonly actions: Readonly<Record<ActionName, ActionView>>;
}

export interface DashboardState {
  /** The namespace served, or undefined for all. */
  readonly namespace?: string;
  readonly groups: readonly GroupView[];
  /** Watches failing now (the page says the data may be stale). */
  readonly problems: readonly string[];
}

/** The body of POST /api/groups/<ns>/<name>/<action>: the value the user confirmed, and the reason of an abort. */
export interface ActionRequest {
  readonly expect: string;
  readonly reason?: string;
}

export type ActionResponse = { readonly ok: true; readonly message: string } | { readonly ok: false; readonly message: string };
