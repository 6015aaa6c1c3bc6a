import type { Condition } from '../api/rolloutgroup.ts';

export type ConditionInput = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/** Sets a condition, keeping lastTransitionTime when the status did not flip. */
export function setCondition(
  previous: readonly Condition[],
  next: ConditionInput,
  generation: number,
  nowIso: string,
): Condition {
  const old = previous.find((c) => c.type === next.type);
  const lastTransitionTime = old && old.status === next.status ? old.lastTransitionTime : nowIso;
  return { ...next, message: next.message.slice(0, 32_768), observedGeneration: generation, lastTransitionTime };
}
