import { REQUEST, releaseFailed, type ReleaseStatus } from '../api/rolloutgroup.ts';
import type { HandledRequest, PlannedEvent } from './plan-types.ts';
import { EVENT } from './reasons.ts';

/** The request annotations on the group (DESIGN §6). */
export interface Requests {
  readonly promote?: string | undefined;
  readonly abort?: string | undefined;
  readonly retry?: string | undefined;
}

export const requestsOf = (annotations: Readonly<Record<string, string>>): Requests => ({
  promote: annotations[REQUEST.promote],
  abort: annotations[REQUEST.abort],
  retry: annotations[REQUEST.retry],
});

/** What the release may do about the requests, and which are handled (removed) with which events. */
export interface RequestDecision {
  /** A promote request for the current gate, accepted now. */
  readonly opensGate: boolean;
  /** An accepted abort request's reason. */
  readonly abort: string | undefined;
  /** An accepted retry request. */
  readonly retry: boolean;
  readonly handled: readonly HandledRequest[];
  readonly events: readonly PlannedEvent[];
}

export interface RequestContext {
  /** The gate of the current stage can open now (every mover ready, nobody held). */
  readonly gateReady: boolean;
  /** Why a retry of this aborted release would be refused, if it would. */
  readonly retryRefusal: string | undefined;
  /** A promote now decides the inconclusive post-promotion analysis of an open gate (docs/analysis.md). */
  readonly decidesAnalysis?: boolean;
}

/**
 * Every request decided in one place, per state of the release in flight (none, Gating, CuttingOver,
 * RollingBack, Aborted). A promote request is `<release id>` or `<release id>/<stage>` (1-based, to
 * open one gate of a multi-stage release only): one naming another release or a passed stage is
 * refused and removed; one for a later gate is kept until it is reached; one arriving while its gate is
 * open already is spent. A promote never opens two gates.
 */
export function decideRequests(release: ReleaseStatus | undefined, requests: Requests, ctx: RequestContext): RequestDecision {
  const handled: HandledRequest[] = [];
  const events: PlannedEvent[] = [];
  const take = (annotation: string, value: string) => handled.push({ annotation, value });
  const refuse = (annotation: string, value: string, reason: PlannedEvent['reason'], message: string) => {
    take(annotation, value);
    events.push({ type: 'Warning', reason, message });
  };
  let opensGate = false;
  let abort: string | undefined;
  let retry = false;

  const { promote, abort: abortValue, retry: retryValue } = requests;
  if (promote !== undefined) {
    const why = promoteRefusal(release, promote);
    if (why) refuse(REQUEST.promote, promote, EVENT.PromoteRefused, `promote request ${promote} refused: ${why}`);
    else if (release && isForCurrentGate(release, promote)) {
      if (release.state === 'CuttingOver') {
        take(REQUEST.promote, promote); // spent: its gate is open already, unless it decides an inconclusive analysis
        opensGate = ctx.decidesAnalysis === true;
      }
      else if (ctx.gateReady) {
        take(REQUEST.promote, promote);
        opensGate = true;
      }
    }
  }

  if (abortValue !== undefined) {
    if (!release) refuse(REQUEST.abort, abortValue, EVENT.AbortRefused, 'abort request refused: no release is in flight');
    else {
      take(REQUEST.abort, abortValue);
      // Aborted or rolling back already: the request is spent without a second abort.
      if (release.state === 'Gating' || release.state === 'CuttingOver') abort = abortValue || 'no reason given';
    }
  }

  if (retryValue !== undefined) {
    const why = retryRefusal(release, retryValue, ctx);
    if (why === 'spent') take(REQUEST.retry, retryValue);
    else if (why) refuse(REQUEST.retry, retryValue, EVENT.RetryRefused, `retry request for release ${retryValue} refused: ${why}`);
    else {
      take(REQUEST.retry, retryValue);
      retry = true;
    }
  }
  return { opensGate, abort, retry, handled, events };
}

function promoteRefusal(release: ReleaseStatus | undefined, value: string): string | undefined {
  if (!release) return 'no release is in flight';
  const [id, stageText] = value.split('/');
  if (id !== release.id) return `the release in flight is ${release.id}`;
  if (releaseFailed(release)) return `release ${release.id} was aborted`;
  const current = release.stage ?? 0;
  const stages = release.stages ?? 1;
  const wanted = stageText === undefined ? current : Number(stageText) - 1;
  if (!Number.isInteger(wanted) || wanted < 0 || wanted >= stages) return `release ${release.id} has stages 1 to ${stages}`;
  if (wanted < current) return `stage ${wanted + 1} of release ${release.id} has passed; it is at stage ${current + 1}`;
  return undefined;
}

/** Not refused, and for the current stage (a request for a later gate is kept until it gets there). */
const isForCurrentGate = (release: ReleaseStatus, value: string): boolean => {
  const stageText = value.split('/')[1];
  return stageText === undefined || Number(stageText) - 1 === (release.stage ?? 0);
};

/** Why a retry is refused; 'spent' when it is the one already taken whose removal was lost. */
function retryRefusal(release: ReleaseStatus | undefined, value: string, ctx: RequestContext): string | undefined {
  if (!release) return 'no release is in flight';
  if (value !== release.id) return `the release in flight is ${release.id}`;
  if (release.state === 'Gating' || release.state === 'CuttingOver') return release.retries ? 'spent' : `release ${release.id} is not aborted`;
  if (release.state === 'RollingBack') return ctx.retryRefusal ?? `release ${release.id} is still rolling back`;
  return ctx.retryRefusal;
}
