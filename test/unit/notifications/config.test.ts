import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { destinationsFor, parseConfig } from '../../../src/notifications/config.ts';
import { deliveriesFor } from '../../../src/notifications/render.ts';
import type { Milestone } from '../../../src/notifications/milestones.ts';

const data = {
  'service.webhook.ci': 'url: https://ci.example/hooks\nheaders:\n- {name: Authorization, value: Bearer $ci-token}\n',
  'service.slack': 'webhookUrl: $slack-url\nchannel: deploys\n',
  'template.mine': 'message: "{{group.metadata.name}} says {{release.abortReason}}"\nwebhook:\n  ci:\n    method: PUT\n    path: /groups/{{group.metadata.name}}\n    body: \'{"why": "{{release.abortReason}}"}\'\n',
  'trigger.on-release-aborted': '- send: [mine]\n',
  subscriptions: '- recipients: [ci, "slack:alerts"]\n  triggers: [on-release-aborted]\n',
  context: 'dashboard: https://tandem.example\n',
};
const secrets = { 'ci-token': 's3cret', 'slack-url': 'https://hooks.slack.example/T/B/X' };
const group = { metadata: { namespace: 'shop', name: 'loans/x', annotations: {} } };
const aborted: Milestone = { trigger: 'on-release-aborted', releaseKey: 'r1', key: 'aborted', release: { id: 'r1', state: 'Aborted', targets: [{ rollout: 'loan', revision: 'abc' }], abortReason: 'loan said "no"\nbye' } };

describe('notifications config', () => {
  it('reads services with secrets, templates, triggers, subscriptions and context', () => {
    const r = parseConfig(data, secrets);
    expect(r.problems).toBeUndefined();
    const c = r.config!;
    expect(c.services.get('ci')).toMatchObject({ type: 'webhook', settings: { url: 'https://ci.example/hooks', headers: [{ name: 'Authorization', value: 'Bearer s3cret' }] } });
    expect(c.services.get('slack')).toMatchObject({ type: 'slack', settings: { webhookUrl: 'https://hooks.slack.example/T/B/X', channel: 'deploys' } });
    expect(c.triggers.get('on-release-aborted')).toEqual(['mine']);
    // The built-in catalog fills in what the ConfigMap leaves out.
    expect(c.triggers.get('on-release-started')).toEqual(['release-started']);
    expect(c.context).toEqual({ dashboard: 'https://tandem.example' });
    expect(destinationsFor(c, {}, 'on-release-aborted')).toEqual([{ service: 'ci', recipient: '' }, { service: 'slack', recipient: 'alerts' }]);
    expect(destinationsFor(c, {}, 'on-release-started')).toEqual([]);
  });

  it("a group's annotations subscribe it, as Argo's notifications.argoproj.io/subscribe.<trigger>.<service>", () => {
    const c = parseConfig(data, secrets).config!;
    const ann = { 'notifications.tandem.dev/subscribe.on-release-started.slack': 'a; b', 'notifications.tandem.dev/subscribe.on-release-started.ci': '', 'notifications.tandem.dev/subscribe.on-release-started.nobody': '' };
    expect(destinationsFor(c, ann, 'on-release-started')).toEqual([{ service: 'slack', recipient: 'a' }, { service: 'slack', recipient: 'b' }, { service: 'ci', recipient: '' }]);
  });

  it("config/notifications' example is accepted once its Secret holds the keys it names", () => {
    const cm = parse(readFileSync('config/notifications/notifications-cm.yaml', 'utf8')) as { data: Record<string, string> };
    expect(parseConfig(cm.data, {}).problems).toEqual(expect.arrayContaining(['service.slack: the notifications Secret has no key "slack-url"', 'service.webhook.ci: the notifications Secret has no key "ci-token"']));
    const c = parseConfig(cm.data, { 'slack-url': 'https://hooks.slack.example/x', 'ci-token': 't' }).config!;
    expect(destinationsFor(c, {}, 'on-release-started')).toEqual([{ service: 'ci', recipient: '' }]);
    expect(destinationsFor(c, {}, 'on-release-waiting')).toEqual([{ service: 'ci', recipient: '' }, { service: 'slack', recipient: 'deploys' }]);
  });

  it('refuses a config with any problem, naming each', () => {
    const r = parseConfig(
      {
        'service.webhook.ci': 'url: https://ci.example\nheaders:\n- {name: X, value: $missing}\n',
        'service.email': 'host: smtp',
        'template.bad': 'mesage: typo',
        'trigger.on-rollout-completed': '- send: [x]',
        'trigger.on-release-started': '- when: "true"\n  send: [release-started]',
        'trigger.on-release-aborted': '- send: [absent]',
        subscriptions: '- recipients: [teams]',
        other: 'x',
      },
      {},
    );
    expect(r.config).toBeUndefined();
    const p = r.problems!.join('\n');
    expect(p).toContain('service.webhook.ci: the notifications Secret has no key "missing"');
    expect(p).toContain('service.email: unknown service type');
    expect(p).toMatch(/template\.bad: .*mesage/);
    expect(p).toContain('trigger.on-rollout-completed: unknown trigger');
    expect(p).toContain('when and oncePer are not supported');
    expect(p).toContain('trigger.on-release-aborted: no template absent');
    expect(p).toContain('subscriptions: no service teams');
    expect(p).toContain('other: unknown key');
  });
});

describe('rendering', () => {
  it("a webhook's own request: method, path (URL-escaped) and a JSON body whose values are JSON-escaped", () => {
    const c = parseConfig(data, secrets).config!;
    const [d] = deliveriesFor(c, group, aborted, { service: 'ci', recipient: '' });
    expect(d!.method).toBe('PUT');
    expect(d!.url).toBe('https://ci.example/hooks/groups/loans%2Fx');
    expect(d!.headers['authorization']).toBe('Bearer s3cret');
    expect(JSON.parse(d!.body)).toEqual({ why: 'loan said "no"\nbye' });
  });

  it('Slack: an incoming-webhook payload, text from the message, the channel from the recipient', () => {
    const c = parseConfig(data, secrets).config!;
    const [d] = deliveriesFor(c, group, aborted, { service: 'slack', recipient: 'alerts' });
    expect(d!.url).toBe('https://hooks.slack.example/T/B/X');
    expect(JSON.parse(d!.body)).toEqual({ text: 'loans/x says loan said "no"\nbye', channel: 'alerts' });
  });

  it('the built-in templates: Slack attachments that parse, a webhook JSON summary without a body of its own', () => {
    const c = parseConfig({ 'service.webhook.hook': 'url: http://127.0.0.1:1/x', 'service.slack': 'webhookUrl: http://127.0.0.1:1/s' }, {}).config!;
    const started: Milestone = { ...aborted, trigger: 'on-release-started', key: 'started', release: { id: 'r1', state: 'Gating', targets: [{ rollout: 'loan', revision: 'abc' }, { rollout: 'interest', revision: 'def' }] } };
    const slack = JSON.parse(deliveriesFor(c, group, started, { service: 'slack', recipient: '' })[0]!.body);
    expect(slack.text).toBe('Release r1 of RolloutGroup shop/loans/x started: loan@abc, interest@def');
    expect(slack.attachments[0].fields).toContainEqual({ title: 'Release', value: 'r1', short: true });
    const hook = deliveriesFor(c, group, started, { service: 'hook', recipient: '' })[0]!;
    expect(hook).toMatchObject({ method: 'POST', url: 'http://127.0.0.1:1/x' });
    expect(JSON.parse(hook.body)).toMatchObject({ trigger: 'on-release-started', group: { namespace: 'shop', name: 'loans/x' }, release: { id: 'r1', state: 'Gating' }, message: slack.text });
  });
});
