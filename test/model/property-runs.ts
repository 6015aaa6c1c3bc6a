/**
 * fast-check parameters of the planner's property tests: `TANDEM_PROPERTY_RUNS` runs, and
 * `TANDEM_PROPERTY_SEED` (with `TANDEM_PROPERTY_PATH`) replays a failure fast-check reported.
 */
export function propertyRuns(defaultRuns: number): { numRuns: number; seed?: number; path?: string } {
  const seed = process.env['TANDEM_PROPERTY_SEED'];
  const path = process.env['TANDEM_PROPERTY_PATH'];
  return {
    numRuns: Number(process.env['TANDEM_PROPERTY_RUNS'] ?? defaultRuns),
    ...(seed ? { seed: Number(seed) } : {}),
    ...(path ? { path } : {}),
  };
}
