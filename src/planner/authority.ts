import { AUTHORIZED_GROUP_ANNOTATION, defaultAddressAnnotation, type Member } from '../api/rolloutgroup.ts';
import type { Rollout } from '../api/rollout.ts';

/**
 * Least authority (DESIGN §8): what a group may make the controller write, whoever wrote the group.
 * The CRD's CEL rules refuse the same keys at admission; this is the check of last resort for groups
 * stored before those rules (or under a CRD someone edited), and for the controller's own allow-list.
 */

/** Pod annotations in these domains (and their subdomains) steer Kubernetes and Argo Rollouts themselves. */
export const REFUSED_DOMAINS = ['kubernetes.io', 'k8s.io', 'argoproj.io'] as const;

/** The same rule as the CRD's CEL (crds/rolloutgroup.yaml); a unit test keeps the two equal. */
export const REFUSED_KEY_PATTERN = '^([^/]*[.])?(kubernetes|k8s|argoproj)[.]io/';

/** What the controller's flags allow beyond the schema. */
export interface AuthorityPolicy {
  /** `--annotation-prefixes`: when non-empty, every key a group names must start with one of these. */
  readonly annotationPrefixes?: readonly string[];
  /** `--require-member-consent`: each member Rollout must carry AUTHORIZED_GROUP_ANNOTATION naming the group. */
  readonly requireConsent?: boolean;
}

/** The DNS prefix of a qualified key (`example.com/name` → `example.com`), if it has one. */
export const keyDomain = (key: string): string | undefined => (key.includes('/') ? key.slice(0, key.indexOf('/')) : undefined);

/** The refused domain a key falls in, if any. */
export function refusedDomainOf(key: string): string | undefined {
  const domain = keyDomain(key)?.toLowerCase();
  if (domain === undefined) return undefined;
  return REFUSED_DOMAINS.find((d) => domain === d || domain.endsWith(`.${d}`));
}

/** Every pod annotation key a member's spec makes Tandem write, with where it was named. */
export function keysNamedBy(member: Member): { key: string; where: string }[] {
  const out: { key: string; where: string }[] = [];
  for (const d of member.dependsOn) {
    out.push({ key: d.annotation ?? defaultAddressAnnotation(d.rollout), where: `dependsOn[${d.rollout}].annotation` });
  }
  for (const role of ['preview', 'active'] as const) {
    for (const key of Object.keys(member.roleAnnotations?.[role] ?? {})) out.push({ key, where: `roleAnnotations.${role}` });
  }
  return out;
}

/** Why the controller will not write this key, or undefined when it may. */
export function keyProblem(key: string, policy: AuthorityPolicy | undefined): string | undefined {
  const domain = refusedDomainOf(key);
  if (domain) return `annotation key ${key} is in the ${domain} domain, which Tandem never writes: use a key of your own domain`;
  const prefixes = policy?.annotationPrefixes ?? [];
  if (prefixes.length > 0 && !prefixes.some((p) => key.startsWith(p))) {
    return `annotation key ${key} does not start with an allowed prefix (${prefixes.join(', ')}); the controller's --annotation-prefixes says which`;
  }
  return undefined;
}

/** Consent mode: a member Rollout takes part only if it names the group (as Kargo's authorized-stage does). */
export const consents = (rollout: Pick<Rollout, 'metadata'>, group: string): boolean =>
  (rollout.metadata.annotations?.[AUTHORIZED_GROUP_ANNOTATION] ?? '') === group;
