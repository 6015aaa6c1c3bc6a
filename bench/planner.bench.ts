// How long one plan() takes for groups of growing size, in the most expensive states: mid-cutover
// (blue-green) or mid-resume at a barrier (canary), every member changed and ready. Run with `npm run bench`; figures go to docs/development.md.
import { Bench } from 'tinybench';
import { plan } from '../src/planner/plan.ts';
import { blueGreen, canary, group, observed, url } from '../test/fixtures/builders.ts';

function chain(n: number, kind: 'blueGreen' | 'canary' = 'blueGreen') {
  const names = Array.from({ length: n }, (_, i) => `m${i}`);
  const members = names.map((m, i) => ({ rollout: m, dependsOn: i > 0 ? [{ rollout: names[i - 1]! }] : [] }));
  const rollouts = names.map((m, i) => {
    const key = i > 0 ? `tandem.dev/${names[i - 1]}-url` : undefined;
    if (kind === 'canary') {
      const meta = key ? { canaryMetadata: { [key]: url(`${names[i - 1]}-canary`) }, stableMetadata: { [key]: url(`${names[i - 1]}-stable`) }, owned: { canaryMetadata: [key], stableMetadata: [key] } } : {};
      return canary({ name: m, stable: `${m}-1`, desired: `${m}-2`, atBarrier: 0, ...meta });
    }
    const meta = key ? { previewMetadata: { [key]: url(`${names[i - 1]}-preview`) }, activeMetadata: { [key]: url(`${names[i - 1]}-active`) }, owned: { previewMetadata: [key], activeMetadata: [key] } } : {};
    return blueGreen({ name: m, stable: `${m}-1`, desired: `${m}-2`, ...meta });
  });
  const targets = names.map((m) => ({ rollout: m, revision: `${m}-2` }));
  const g = group({
    members,
    status: {
      members: [],
      conditions: [],
      release: { id: 'x', targets, startedAt: '2026-01-01T00:00:00Z', readyAt: '2026-01-01T00:00:00Z', promotedAt: '2026-01-01T00:00:00Z', promotedMembers: [] },
    },
  });
  return observed(g, rollouts);
}

const b = new Bench({ time: 1_000 });
for (const n of [2, 10, 50]) {
  const o = chain(n);
  b.add(`plan(): ${n} members, mid-cutover`, () => {
    plan(o);
  });
  const c = chain(n, 'canary');
  b.add(`plan(): ${n} canary members, resuming at barrier 1 of 2`, () => {
    plan(c);
  });
}
await b.run();
console.table(b.table());
