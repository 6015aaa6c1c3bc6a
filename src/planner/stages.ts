import type { Strategy } from '../api/rolloutgroup.ts';
import type { MemberReading } from './member-reading.ts';

/**
 * One gated step of a release. Lockstep: every changed member at barrier i, resumed dependents
 * first. Ordered: one member at one of its barriers. `final` resumes complete the members.
 */
export interface Stage {
  readonly movers: readonly string[];
  readonly barrier: number;
  readonly barriers: number;
  readonly final: boolean;
}

/**
 * The stages of a release, in the order they are gated (DESIGN §4). `sequence` is the release's
 * targets as persisted when it started: dependencies first (Lockstep), or in `order` (Ordered).
 */
export function stagesOf(strategy: Strategy, sequence: readonly string[], readings: ReadonlyMap<string, MemberReading>): Stage[] {
  const barriersOf = (m: string) => Math.max(1, readings.get(m)?.barrierCount ?? 1);
  if (strategy === 'Lockstep') {
    const movers = [...sequence].reverse();
    // Validation makes every member's count the same; the largest is the safe reading if not.
    const barriers = Math.max(1, ...movers.map(barriersOf));
    return Array.from({ length: barriers }, (_, i) => ({ movers, barrier: i, barriers, final: i === barriers - 1 }));
  }
  return sequence.flatMap((m) => {
    const barriers = barriersOf(m);
    return Array.from({ length: barriers }, (_, i) => ({ movers: [m], barrier: i, barriers, final: i === barriers - 1 }));
  });
}
