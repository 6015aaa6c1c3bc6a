/**
 * fast-check parameters of the planner's property tests: `TANDEM_PROPERTY_RUNS` runs;
 * `TANDEM_PROPERTY_SEED` (with `TANDEM_PROPERTY_PATH`) replays a failure fast-check reported, and
 * `TANDEM_PROPERTY_EXAMPLE` (its counterexample, as printed) runs that scenario first.
 */
export function propertyRuns<T>(defaultRuns: number): { numRuns: number; seed?: number; path?: string; examples?: [T][] } {
  const seed = process.env['TANDEM_PROPERTY_SEED'];
  const path = process.env['TANDEM_PROPERTY_PATH'];
  const example = process.env['TANDEM_PROPERTY_EXAMPLE'];
  return {
    numRuns: Number(process.env['TANDEM_PROPERTY_RUNS'] ?? defaultRuns),
    ...(seed ? { seed: Number(seed) } : {}),
    ...(path ? { path } : {}),
    // Printed as `[scenario]`; `undefined` fields print bare, which JSON lacks.
    ...(example ? { examples: [JSON.parse(example.replaceAll(':undefined', ':null')) as [T]] } : {}),
  };
}

/** A property test's timeout: `ms` for its default number of runs, more for more (TANDEM_PROPERTY_RUNS=1000). */
export function propertyTimeout(defaultRuns: number, ms: number): number {
  const runs = Number(process.env['TANDEM_PROPERTY_RUNS'] ?? defaultRuns);
  // Twice the proportional time: more runs are taken on a loaded machine, where they run slower.
  return runs <= defaultRuns ? ms : Math.ceil((2 * ms * runs) / defaultRuns);
}
