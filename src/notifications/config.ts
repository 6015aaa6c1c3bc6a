import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BUILT_IN_TEMPLATES, BUILT_IN_TRIGGERS } from './catalog.ts';
import { isTrigger, TRIGGERS, type Trigger } from './milestones.ts';

/**
 * The notifications ConfigMap, in the shape of Argo's notifications engine (`service.<type>[.<name>]`,
 * `template.<name>`, `trigger.<name>`, `subscriptions`, `context`), with `$key` in a service's
 * settings replaced by that key of the notifications Secret. Parsed as a whole: a config with a
 * problem is reported and not used, so a typo never sends half the messages.
 */

const Header = z.object({ name: z.string().min(1), value: z.string() }).strict();
const WebhookService = z
  .object({
    url: z.url(),
    headers: z.array(Header).default([]),
    basicAuth: z.object({ username: z.string(), password: z.string() }).strict().optional(),
  })
  .strict();
const SlackService = z
  .object({
    /** A Slack incoming webhook (or anything that takes its payload: Mattermost, Rocket.Chat, …). */
    webhookUrl: z.url(),
    channel: z.string().optional(),
    username: z.string().optional(),
    icon: z.string().optional(),
  })
  .strict();
export type WebhookService = z.infer<typeof WebhookService>;
export type SlackService = z.infer<typeof SlackService>;
export type Service = { readonly name: string; readonly type: 'webhook'; readonly settings: WebhookService } | { readonly name: string; readonly type: 'slack'; readonly settings: SlackService };

const WebhookRequest = z.object({ method: z.string().regex(/^[A-Z]+$/).default('POST'), path: z.string().default(''), body: z.string().optional() }).strict();
export const Template = z
  .object({
    message: z.string().default(''),
    webhook: z.record(z.string(), WebhookRequest).default({}),
    slack: z.object({ attachments: z.string().optional(), blocks: z.string().optional() }).strict().optional(),
  })
  .strict();
export type Template = z.infer<typeof Template>;

// Argo's `when` and `oncePer` have no counterpart: a Tandem trigger is a release milestone, sent once.
const TriggerSpec = z.array(z.object({ send: z.array(z.string()).min(1) }).strict()).min(1);
const Subscription = z.object({ recipients: z.array(z.string().min(1)).min(1), triggers: z.array(z.string()).optional() }).strict();

export interface Destination {
  readonly service: string;
  /** A Slack channel, or empty: the service's own default. */
  readonly recipient: string;
}
export const destinationKey = (d: Destination): string => (d.recipient ? `${d.service}:${d.recipient}` : d.service);
export function parseDestination(s: string): Destination {
  const i = s.indexOf(':');
  return i < 0 ? { service: s, recipient: '' } : { service: s.slice(0, i), recipient: s.slice(i + 1) };
}

export interface NotificationConfig {
  readonly services: ReadonlyMap<string, Service>;
  readonly templates: ReadonlyMap<string, Template>;
  /** Each trigger's templates (built-in unless the ConfigMap names its own). */
  readonly triggers: ReadonlyMap<Trigger, readonly string[]>;
  readonly subscriptions: readonly { readonly destinations: readonly Destination[]; readonly triggers: readonly Trigger[] }[];
  /** Static values for every template (`{{context.dashboardUrl}}`), as Argo's `context`. */
  readonly context: Readonly<Record<string, string>>;
}

export type ConfigResult = { readonly config: NotificationConfig; readonly problems?: undefined } | { readonly config?: undefined; readonly problems: readonly string[] };

const SECRET_REF = /\$([A-Za-z0-9_.-]+)/g;

/** Replaces `$key` with the Secret's value in every string of a service's settings. */
function withSecrets(v: unknown, secrets: Readonly<Record<string, string>>, missing: Set<string>): unknown {
  if (typeof v === 'string')
    return v.replace(SECRET_REF, (ref, key: string) => {
      if (key in secrets) return secrets[key]!;
      missing.add(key);
      return ref;
    });
  if (Array.isArray(v)) return v.map((x) => withSecrets(x, secrets, missing));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withSecrets(x, secrets, missing)]));
  return v;
}

function issues(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ');
}

export function parseConfig(data: Readonly<Record<string, string>>, secrets: Readonly<Record<string, string>>): ConfigResult {
  const problems: string[] = [];
  const services = new Map<string, Service>();
  const templates = new Map<string, Template>(Object.entries(BUILT_IN_TEMPLATES).map(([k, t]) => [k, Template.parse(t)]));
  const triggers = new Map<Trigger, readonly string[]>(Object.entries(BUILT_IN_TRIGGERS) as [Trigger, string[]][]);
  const subscriptions: { destinations: Destination[]; triggers: Trigger[] }[] = [];
  let context: Record<string, string> = {};

  const yamlOf = (key: string): unknown => {
    try {
      return parseYaml(data[key]!);
    } catch (err) {
      problems.push(`${key}: not YAML: ${(err as Error).message.split('\n')[0]}`);
      return undefined;
    }
  };
  for (const key of Object.keys(data).sort()) {
    const [kind, ...rest] = key.split('.');
    const name = rest.join('.');
    if (kind === 'service') {
      const [type, ...own] = rest;
      const serviceName = own.join('.') || type!;
      const missing = new Set<string>();
      const raw = withSecrets(yamlOf(key), secrets, missing);
      if (missing.size > 0) problems.push(`${key}: the notifications Secret has no key ${[...missing].map((m) => `"${m}"`).join(', ')}`);
      if (type === 'webhook' && own.length > 0) {
        const p = WebhookService.safeParse(raw);
        if (p.success) services.set(serviceName, { name: serviceName, type: 'webhook', settings: p.data });
        else problems.push(`${key}: ${issues(p.error)}`);
      } else if (type === 'slack') {
        const p = SlackService.safeParse(raw);
        if (p.success) services.set(serviceName, { name: serviceName, type: 'slack', settings: p.data });
        else problems.push(`${key}: ${issues(p.error)}`);
      } else {
        problems.push(`${key}: unknown service type; use service.webhook.<name> or service.slack[.<name>]`);
      }
    } else if (kind === 'template' && name) {
      const p = Template.safeParse(yamlOf(key) ?? {});
      if (p.success) templates.set(name, p.data);
      else problems.push(`${key}: ${issues(p.error)}`);
    } else if (kind === 'trigger' && name) {
      if (!isTrigger(name)) {
        problems.push(`${key}: unknown trigger; Tandem's are ${TRIGGERS.join(', ')}`);
        continue;
      }
      const p = TriggerSpec.safeParse(yamlOf(key));
      if (p.success) triggers.set(name, p.data.flatMap((c) => c.send));
      else problems.push(`${key}: ${issues(p.error)} (a trigger is a list of {send: [template, …]}; when and oncePer are not supported)`);
    } else if (key === 'subscriptions') {
      const p = z.array(Subscription).safeParse(yamlOf(key) ?? []);
      if (!p.success) {
        problems.push(`subscriptions: ${issues(p.error)}`);
        continue;
      }
      for (const s of p.data) {
        const unknown = (s.triggers ?? []).filter((t) => !isTrigger(t));
        if (unknown.length > 0) problems.push(`subscriptions: unknown trigger ${unknown.join(', ')}`);
        subscriptions.push({ destinations: s.recipients.map(parseDestination), triggers: (s.triggers ?? [...TRIGGERS]).filter(isTrigger) });
      }
    } else if (key === 'context') {
      const p = z.record(z.string(), z.coerce.string()).safeParse(yamlOf(key) ?? {});
      if (p.success) context = p.data;
      else problems.push(`context: ${issues(p.error)}`);
    } else {
      problems.push(`${key}: unknown key; expected service.*, template.*, trigger.*, subscriptions or context`);
    }
  }
  for (const [trigger, names] of triggers) {
    for (const t of names) if (!templates.has(t)) problems.push(`trigger.${trigger}: no template ${t}`);
  }
  for (const s of subscriptions) {
    for (const d of s.destinations) if (!services.has(d.service)) problems.push(`subscriptions: no service ${d.service}`);
  }
  if (problems.length > 0) return { problems };
  return { config: { services, templates, triggers, subscriptions, context } };
}

/** The prefix of a group's own subscriptions: `notifications.tandem.dev/subscribe.<trigger>.<service>: <recipient>[;…]`. */
export const SUBSCRIBE_PREFIX = 'notifications.tandem.dev/subscribe.';

/** Who hears of this trigger for this group: the ConfigMap's subscriptions, then the group's annotations. */
export function destinationsFor(config: NotificationConfig, annotations: Readonly<Record<string, string>>, trigger: Trigger): Destination[] {
  const out = new Map<string, Destination>();
  const add = (d: Destination) => config.services.has(d.service) && out.set(destinationKey(d), d);
  for (const s of config.subscriptions) if (s.triggers.includes(trigger)) s.destinations.forEach(add);
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(`${SUBSCRIBE_PREFIX}${trigger}.`)) continue;
    const service = key.slice(`${SUBSCRIBE_PREFIX}${trigger}.`.length);
    const recipients = value.split(';').map((r) => r.trim()).filter(Boolean);
    for (const recipient of recipients.length > 0 ? recipients : ['']) add({ service, recipient });
  }
  return [...out.values()];
}
