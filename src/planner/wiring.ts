import { defaultAddressAnnotation, type Dependency, type Member } from '../api/rolloutgroup.ts';
import type { MetadataField, Rollout, RolloutView, Service } from '../api/rollout.ts';
import { METADATA_FIELDS, ROLE_FIELDS, metadataOf, serviceNameOf, strategyKey, type ServiceRole } from '../api/rollout-roles.ts';

export type { ServiceRole } from '../api/rollout-roles.ts';

export type DesiredMetadata = Partial<Record<MetadataField, Record<string, string>>>;

export type AddressResult =
  | { readonly ok: true; readonly url: string }
  /** `refused`: the spec would make the address reach somewhere other than the Service (DESIGN §8). */
  | { readonly ok: false; readonly problem: string; readonly refused?: true };

/** Ports the URL parser leaves out of an address because they are the scheme's default. */
const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443, ws: 80, wss: 443, ftp: 21 };

/**
 * The URL parser, not string concatenation, says where an address leads: its host must be the
 * Service's FQDN, its port the Service's, with no credentials. A path such as `@evil.example/x`
 * would otherwise turn `svc…:8080` into a user name and send pods to `evil.example`.
 */
function checkedAddress(url: string, host: string, port: number, scheme: string): AddressResult {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, refused: true, problem: `address ${JSON.stringify(url)} is not a URL; check dependsOn[].scheme and path` };
  }
  const portOk = parsed.port === String(port) || (parsed.port === '' && DEFAULT_PORTS[scheme] === port);
  if (parsed.hostname.toLowerCase() !== host.toLowerCase() || !portOk || parsed.username !== '' || parsed.password !== '') {
    return {
      ok: false,
      refused: true,
      problem: `address ${JSON.stringify(url)} would reach host ${parsed.hostname || '(none)'}${parsed.port ? `:${parsed.port}` : ''}, not service ${host}:${port}; dependsOn[].path must start with '/', '?' or '#'`,
    };
  }
  return { ok: true, url };
}

/** `scheme://svc.ns.svc.<domain>:port path` for one of a dependency's Services (DESIGN §3). */
export function addressOf(
  dep: Dependency,
  dependency: Rollout,
  role: ServiceRole,
  services: ReadonlyMap<string, Service>,
  clusterDomain: string,
): AddressResult {
  const name = serviceNameOf(dependency, role);
  const field = ROLE_FIELDS[strategyKey(dependency)][role].service;
  if (!name) return { ok: false, problem: `rollout ${dependency.metadata.name} has no ${field}; a dependent needs it` };
  const svc = services.get(name);
  if (!svc) return { ok: false, problem: `service ${name} (${field} of rollout ${dependency.metadata.name}) does not exist` };
  const ports = svc.spec.ports;
  let port: number | undefined;
  if (dep.port === undefined) port = ports[0]?.port;
  else if (typeof dep.port === 'number') port = ports.some((p) => p.port === dep.port) ? dep.port : undefined;
  else port = ports.find((p) => p.name === dep.port)?.port;
  if (port === undefined) {
    const wanted = dep.port === undefined ? 'a port' : `port ${dep.port}`;
    return { ok: false, problem: `service ${name} has no ${wanted}; set dependsOn[].port to one of its ports` };
  }
  const host = `${name}.${dependency.metadata.namespace}.svc.${clusterDomain}`;
  return checkedAddress(`${dep.scheme}://${host}:${port}${dep.path ?? ''}`, host, port, dep.scheme);
}

export interface WiringInput {
  readonly member: Member;
  readonly rollouts: ReadonlyMap<string, RolloutView>;
  readonly services: ReadonlyMap<string, Service>;
  readonly clusterDomain: string;
  /** Where D's preview pods point for dependency P (Lockstep: P's preview; Ordered: P's active). */
  readonly previewRole: (dependency: string) => ServiceRole;
  /** Where D's active pods point for dependency P: normally P's active, P's preview during cutover (§4a). */
  readonly activeRole: (dependency: string) => ServiceRole;
  /** Whether D's preview pods may have this preview address now (preview-hold.ts); absent: always. */
  readonly previewGiven?: (dependency: string, key: string, url: string) => boolean;
}

/** The annotations Tandem wants on a member's ephemeral metadata. Assumes a validated spec. */
export function desiredMetadata(input: WiringInput): DesiredMetadata {
  const { member, rollouts, services, clusterDomain } = input;
  const self = rollouts.get(member.rollout)?.rollout;
  if (!self) return {};
  const fields = ROLE_FIELDS[strategyKey(self)];
  const previewField = fields.preview.metadata;
  const activeField = fields.active.metadata;
  const preview: Record<string, string> = { ...member.roleAnnotations?.preview };
  const active: Record<string, string> = { ...member.roleAnnotations?.active };
  for (const dep of member.dependsOn) {
    const target = rollouts.get(dep.rollout)?.rollout;
    if (!target) continue;
    const key = dep.annotation ?? defaultAddressAnnotation(dep.rollout);
    const p = addressOf(dep, target, input.previewRole(dep.rollout), services, clusterDomain);
    const a = addressOf(dep, target, input.activeRole(dep.rollout), services, clusterDomain);
    if (p.ok && (input.previewGiven?.(dep.rollout, key, p.url) ?? true)) preview[key] = p.url;
    if (a.ok) active[key] = a.url;
  }
  const out: DesiredMetadata = {};
  if (Object.keys(preview).length > 0) out[previewField] = preview;
  if (Object.keys(active).length > 0) out[activeField] = active;
  return out;
}

/** True when the Rollout carries exactly Tandem's desired keys: every value set, no stale owned key left. */
export function metadataInSync(view: RolloutView, desired: DesiredMetadata): boolean {
  const fields = ROLE_FIELDS[strategyKey(view.rollout)];
  const current: Partial<Record<MetadataField, Record<string, string> | undefined>> = {
    [fields.preview.metadata]: metadataOf(view.rollout, 'preview'),
    [fields.active.metadata]: metadataOf(view.rollout, 'active'),
  };
  return METADATA_FIELDS.every((f) => {
    const want = desired[f] ?? {};
    const have = current[f] ?? {};
    const owned = view.owned[f] ?? [];
    return Object.entries(want).every(([k, v]) => have[k] === v) && owned.every((k) => k in want);
  });
}

export const ownsAnyMetadata = (view: RolloutView): boolean => METADATA_FIELDS.some((f) => (view.owned[f]?.length ?? 0) > 0);
