import { createHash } from 'node:crypto';
import { defaultAddressAnnotation, type Member } from '../api/rolloutgroup.ts';
import type { Rollout, Service } from '../api/rollout.ts';
import type { ServiceRole } from '../api/rollout-roles.ts';
import { addressOf } from './wiring.ts';

/**
 * The annotation a dependency's address is pinned to on one revision's pods during a cutover (DESIGN
 * §4b "a crash never widens a mismatch"). Argo's role metadata never carries it, so it stays on the
 * pods while Argo switches their role. The same rule is `pinnedKey` in @tandem/podinfo, which apps
 * read first (a unit test keeps the two equal).
 */
export const pinKeyOf = (key: string): string => `pin.${key}`;
export const unpinnedKey = (pin: string): string => pin.slice('pin.'.length);

/**
 * `rollout@revision`: a member whose ReplicaSet (and its pods) carry pins. With `values`, the entry also
 * names what they hold (`rollout@revision#fingerprint`), for a pin whose addresses change while it is
 * kept: a write torn between the ReplicaSet and its pods leaves the old entry, so it is planned again.
 */
export const pinEntry = (rollout: string, revision: string, values?: Readonly<Record<string, string>>): string =>
  values ? `${rollout}@${revision}#${fingerprintOf(values)}` : `${rollout}@${revision}`;
/** An entry that names what its pins hold (a stranded revision's, see pinEntry). */
export const namesValues = (entry: string): boolean => entry.includes('#');
export const parsePinEntry = (entry: string): { rollout: string; revision: string } => {
  const bare = entry.split('#')[0]!;
  const at = bare.lastIndexOf('@');
  return { rollout: bare.slice(0, at), revision: bare.slice(at + 1) };
};
const fingerprintOf = (values: Readonly<Record<string, string>>): string =>
  createHash('sha256').update(JSON.stringify(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))).digest('hex').slice(0, 8);

/**
 * The pins a dependent's new pods get before it is promoted: for each dependency that moves in the
 * same release, the address of that dependency's preview (canary) Service, which serves the new
 * revision before and after the dependency's own promotion; for any other, its active (stable)
 * Service. The pins its previous pods get before a
 * rollback puts them back live (Argo gives them their preview metadata until it calls them stable
 * again) name the dependency's active Service instead, back on its previous revision by then.
 * `roleOf` says which Service of each dependency; `undefined` leaves that dependency unpinned.
 */
export function pinsFor(
  member: Member,
  roleOf: (dependency: string) => ServiceRole | undefined,
  rollouts: ReadonlyMap<string, { rollout: Rollout }>,
  services: ReadonlyMap<string, Service>,
  clusterDomain: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dep of member.dependsOn) {
    const target = rollouts.get(dep.rollout)?.rollout;
    const role = roleOf(dep.rollout);
    if (!role || !target) continue;
    const a = addressOf(dep, target, role, services, clusterDomain);
    if (a.ok) out[pinKeyOf(dep.annotation ?? defaultAddressAnnotation(dep.rollout))] = a.url;
  }
  return out;
}

/** Every pin key a member's pods may carry: one per dependency. */
export const pinKeysOf = (member: Member): string[] => member.dependsOn.map((d) => pinKeyOf(d.annotation ?? defaultAddressAnnotation(d.rollout)));
