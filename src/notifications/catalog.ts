import type { Trigger } from './milestones.ts';

/**
 * The built-in templates and triggers, as Argo Rollouts ships its catalog: a ConfigMap names only
 * its services and subscriptions, and overrides a template or trigger by defining one of the same
 * name. Slack attachments are JSON, so values in them are JSON-escaped (render.ts).
 */
const fields = `{"title": "Group", "value": "{{group.metadata.namespace}}/{{group.metadata.name}}", "short": true},
   {"title": "Release", "value": "{{release.id}}", "short": true},
   {"title": "Members", "value": "{{release.targetList}}", "short": false}`;
const attachment = (color: string) => `[{"color": "${color}", "fields": [${fields}]}]`;

const template = (message: string, color: string) => ({ message, slack: { attachments: attachment(color) } });

export const BUILT_IN_TEMPLATES: Readonly<Record<string, unknown>> = {
  'release-started': template('Release {{release.id}} of RolloutGroup {{group.metadata.namespace}}/{{group.metadata.name}} started: {{release.targetList}}', '#18be52'),
  'release-waiting': template(
    'Release {{release.id}} of RolloutGroup {{group.metadata.namespace}}/{{group.metadata.name}} is ready{{#release.stages}} at stage {{release.stage}}/{{release.stages}}{{/release.stages}} and waits for a promote: kubectl rolloutgroup promote {{group.metadata.name}} -n {{group.metadata.namespace}}',
    '#f4c030',
  ),
  'release-promoted': template('Release {{release.id}} of RolloutGroup {{group.metadata.namespace}}/{{group.metadata.name}} promoted{{#release.stages}} (stage {{release.stage}}/{{release.stages}}){{/release.stages}}{{#release.openedBy}} by {{release.openedBy}}{{/release.openedBy}}', '#3a7bd5'),
  'release-aborted': template('Release {{release.id}} of RolloutGroup {{group.metadata.namespace}}/{{group.metadata.name}} aborted: {{release.abortReason}}', '#e01e5a'),
  'release-rolled-back': template(
    'Release {{release.id}} of RolloutGroup {{group.metadata.namespace}}/{{group.metadata.name}} rolled back {{release.rolledBackList}} to the previous revision; Git still declares the new one',
    '#e01e5a',
  ),
  'release-completed': template('Release {{release.id}} of RolloutGroup {{group.metadata.namespace}}/{{group.metadata.name}} completed: the group is Healthy', '#18be52'),
};

export const BUILT_IN_TRIGGERS: Readonly<Record<Trigger, readonly string[]>> = {
  'on-release-started': ['release-started'],
  'on-release-waiting': ['release-waiting'],
  'on-release-promoted': ['release-promoted'],
  'on-release-aborted': ['release-aborted'],
  'on-release-rolled-back': ['release-rolled-back'],
  'on-release-completed': ['release-completed'],
};
