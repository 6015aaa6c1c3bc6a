import Mustache from 'mustache';
import type { NotificationConfig, Service, Template } from './config.ts';
import type { Milestone } from './milestones.ts';

/** One HTTP request a notification becomes. */
export interface Delivery {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Templates are Mustache (`{{group.metadata.name}}` where Argo's Go templates write `{{.rollout.metadata.name}}`). */
const asJsonString = (s: unknown) => JSON.stringify(String(s)).slice(1, -1);
const asText = (s: unknown) => String(s);

function render(template: string, view: unknown, escape: (s: unknown) => string): string {
  return Mustache.render(template, view, {}, { escape });
}

/** What every template sees: the group as stored, the release, the trigger and the ConfigMap's context. */
export function viewOf(group: unknown, m: Milestone, config: NotificationConfig): Record<string, unknown> {
  const targetList = m.release.targets.map((t) => `${t.rollout}@${t.revision}`).join(', ');
  return { group, release: { ...m.release, targetList, rolledBackList: (m.release.rolledBack ?? []).join(', ') }, trigger: m.trigger, context: config.context };
}

/**
 * The request for one destination. A webhook takes the template's `webhook.<service>` (method, path
 * appended to the service's URL, body with JSON-escaped values); without one it posts a JSON summary.
 * Slack gets an incoming-webhook payload: `text` from `message`, attachments and blocks as given.
 */
export function deliveryFor(service: Service, recipient: string, template: Template, view: Record<string, unknown>): Delivery {
  const message = render(template.message, view, asText);
  if (service.type === 'slack') {
    const s = service.settings;
    const json = (t: string | undefined, what: string): unknown => {
      if (t === undefined) return undefined;
      const text = render(t, view, asJsonString);
      try {
        return JSON.parse(text);
      } catch (err) {
        throw new TemplateError(`slack.${what} is not JSON once rendered: ${(err as Error).message}`, { cause: err });
      }
    };
    const payload = {
      text: message,
      ...((recipient || s.channel) ? { channel: recipient || s.channel } : {}),
      ...(s.username ? { username: s.username } : {}),
      ...(s.icon ? (s.icon.startsWith(':') ? { icon_emoji: s.icon } : { icon_url: s.icon }) : {}),
      ...(template.slack?.attachments !== undefined ? { attachments: json(template.slack.attachments, 'attachments') } : {}),
      ...(template.slack?.blocks !== undefined ? { blocks: json(template.slack.blocks, 'blocks') } : {}),
    };
    return { method: 'POST', url: s.webhookUrl, headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) };
  }
  const s = service.settings;
  const own = template.webhook[service.name];
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const h of s.headers) headers[h.name.toLowerCase()] = h.value;
  if (s.basicAuth) headers['authorization'] = `Basic ${Buffer.from(`${s.basicAuth.username}:${s.basicAuth.password}`).toString('base64')}`;
  const release = view['release'] as Record<string, unknown>;
  const group = view['group'] as { metadata?: { namespace?: string; name?: string } };
  const body =
    own?.body !== undefined
      ? render(own.body, view, asJsonString)
      : JSON.stringify({ trigger: view['trigger'], group: { namespace: group.metadata?.namespace, name: group.metadata?.name }, release, message });
  const path = own ? render(own.path, view, (v) => encodeURIComponent(String(v))) : '';
  return { method: own?.method ?? 'POST', url: `${s.url.replace(/\/$/, '')}${path}`, headers, body };
}

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** Every request a milestone makes to one destination: one per template its trigger sends. */
export function deliveriesFor(config: NotificationConfig, group: unknown, m: Milestone, destination: { service: string; recipient: string }): Delivery[] {
  const service = config.services.get(destination.service);
  if (!service) return [];
  const view = viewOf(group, m, config);
  return (config.triggers.get(m.trigger) ?? []).map((name) => deliveryFor(service, destination.recipient, config.templates.get(name)!, view));
}
