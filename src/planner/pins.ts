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

/** `rollout@revision`: a member whose new ReplicaSet (and its pods) carry pins. */
export const pinEntry = (rollout: string, revision: string): string => `${rollout}@${revision}`;
export const parsePinEntry = (entry: string): { rollout: string; revision: string } => {
  const at = entry.lastIndexOf('@');
  return { rollout: entry.slice(0, at), revision: entry.slice(at + 1) };
};

/**
 * The pins a dependent's new pods get before it is promoted: for each dependency that moves in the
 * same release, the address of that dependency's preview (canary) Service, which serves the new
 * revision before and after the dependency's own promotion. With `active`: the pins its previous
 * pods get before a rollback puts them back live (Argo gives them their preview metadata until it
 * calls them stable again), the dependency's active Service, back on its previous revision by then.
 */
export function pinsFor(
  member: Member,
  moving: ReadonlySet<string>,
  rollouts: ReadonlyMap<string, { rollout: Rollout }>,
  services: ReadonlyMap<string, Service>,
  clusterDomain: string,
  role: ServiceRole = 'preview',
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dep of member.dependsOn) {
    const target = rollouts.get(dep.rollout)?.rollout;
    if (!moving.has(dep.rollout) || !target) continue;
    const a = addressOf(dep, target, role, services, clusterDomain);
    if (a.ok) out[pinKeyOf(dep.annotation ?? defaultAddressAnnotation(dep.rollout))] = a.url;
  }
  return out;
}

/** Every pin key a member's pods may carry: one per dependency. */
export const pinKeysOf = (member: Member): string[] => member.dependsOn.map((d) => pinKeyOf(d.annotation ?? defaultAddressAnnotation(d.rollout)));
