/** Event reasons (DESIGN §6), one place so the planner, the docs and the tests agree on the names. */
export const EVENT = {
  ReleaseStarted: 'ReleaseStarted',
  ReleaseReady: 'ReleaseReady',
  PromotionStarted: 'PromotionStarted',
  MemberPromoted: 'MemberPromoted',
  ReleaseCompleted: 'ReleaseCompleted',
  ReleaseAborted: 'ReleaseAborted',
  ReleaseRolledBack: 'ReleaseRolledBack',
  ReleaseRetried: 'ReleaseRetried',
  InvalidSpec: 'InvalidSpec',
  PromoteRefused: 'PromoteRefused',
  AbortRefused: 'AbortRefused',
  RetryRefused: 'RetryRefused',
  /** A newer revision arrived after the gate opened: it waits for the next release (§4b). */
  ChangeDeferred: 'ChangeDeferred',
  /** The group's spec changed mid-release: the release keeps the graph it started with (§4b). */
  SpecChangeDeferred: 'SpecChangeDeferred',
  /** A person paused a member (`spec.paused: true`): Tandem waits for them (§4b). */
  MemberHeld: 'MemberHeld',
  /** Someone else promoted or resumed a member before Tandem's gate opened (§4b). */
  OutOfBandPromotion: 'OutOfBandPromotion',
  /** A group AnalysisRun was created, and what it concluded (docs/analysis.md). */
  AnalysisStarted: 'AnalysisStarted',
  AnalysisSucceeded: 'AnalysisSucceeded',
  AnalysisFailed: 'AnalysisFailed',
  AnalysisInconclusive: 'AnalysisInconclusive',
} as const;
export type EventReason = (typeof EVENT)[keyof typeof EVENT];

/** Reasons of the Ready condition. */
export const READY = {
  Stable: 'Stable',
  ReleaseCompleted: 'ReleaseCompleted',
  ReleaseProgressing: 'ReleaseProgressing',
  ReleaseRetried: 'ReleaseRetried',
  AwaitingPromotion: 'AwaitingPromotion',
  Soaking: 'Soaking',
  Promoting: 'Promoting',
  WaitingForArgo: 'WaitingForArgo',
  /** A member is held by a person or paused by Argo for a person (an inconclusive analysis). */
  WaitingForPerson: 'WaitingForPerson',
  ReleaseAborted: 'ReleaseAborted',
  ReleaseRolledBack: 'ReleaseRolledBack',
  GroupPaused: 'GroupPaused',
  InvalidSpec: 'InvalidSpec',
  /** Every mover is ready; the group's analysis runs before the gate may open. */
  Analyzing: 'Analyzing',
} as const;
export type ReadyReason = (typeof READY)[keyof typeof READY];
