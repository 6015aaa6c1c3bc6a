/**
 * Notifications (docs/notifications.md) from a real controller during real releases, to a loopback
 * HTTP receiver: each milestone once, in order, a refused delivery retried, nothing sent again by a
 * controller killed and started anew, a Slack payload, and an abort.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { relative } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Scenario } from './support/scenario.ts';
import { waitFor } from './support/wait.ts';

interface Received {
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: any;
  readonly status: number;
}

/** Answers 503 to the first request whose body matches `refuseOnce`, 200 to the rest; records all. */
async function receiver(refuseOnce: (body: any) => boolean): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  let refused = false;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      const refuse = !refused && refuseOnce(body);
      if (refuse) refused = true;
      const status = refuse ? 503 : 200;
      received.push({ path: req.url ?? '', headers: req.headers, body, status });
      res.writeHead(status).end(refuse ? 'busy' : 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}`, received };
}

let s: Scenario | undefined;
let server: Server | undefined;
afterEach(async () => {
  await s?.cleanup();
  server?.close();
  s = undefined;
});

describe('notifications', () => {
  it('webhook and Slack messages for each milestone of a release, once, across a retry and a SIGKILL', async () => {
    const r = await receiver((b) => b.trigger === 'on-release-waiting');
    server = r.server;
    // The ConfigMap and Secret as kubelet mounts them: one file per key.
    const dir = mkdtempSync(join(tmpdir(), 'tandem-notifications-'));
    const cm = join(dir, 'config');
    const secret = join(dir, 'secret');
    mkdirSync(cm);
    mkdirSync(secret);
    writeFileSync(join(cm, 'service.webhook.receiver'), `url: ${r.url}/hook\nheaders:\n- {name: X-Token, value: $receiver-token}\n`);
    writeFileSync(join(cm, 'service.slack'), 'webhookUrl: $slack-url\nusername: tandem\n');
    writeFileSync(join(cm, 'subscriptions'), '- recipients: [receiver]\n');
    writeFileSync(join(secret, 'receiver-token'), 't0ken');
    writeFileSync(join(secret, 'slack-url'), `${r.url}/slack`);
    const args = ['--notifications-config-dir', cm, '--notifications-secret-dir', secret];

    s = await Scenario.create('notify', 'loans', ['interest', 'loan']);
    const sc = s;
    for (const f of ['interest', 'loan', 'group']) await sc.kube.applyFile(sc.ns, `examples/loan-interest/${f}.yaml`);
    await sc.kube.annotateGroup(sc.ns, 'loans', { 'notifications.tandem.dev/subscribe.on-release-completed.slack': 'deploys' });
    let c = sc.startController('controller', args);
    await sc.waitSteady();

    const hooks = () => r.received.filter((x) => x.path === '/hook');
    const all = () => hooks().filter((x) => x.status === 200).map((x) => `${x.body.trigger} ${x.body.release.id}`);
    // The two images land one after the other: a release of the first alone may start and be
    // replaced a moment later. Its start is told, and nothing else of it; the rest is of the
    // releases of both.
    const ofBoth = new Set<string>();
    const delivered = () => {
      const [told, others] = [all().filter((d) => ofBoth.has(d.split(' ')[1]!)), all().filter((d) => !ofBoth.has(d.split(' ')[1]!))];
      expect(others.filter((d) => !d.startsWith('on-release-started ')), 'messages of a replaced partial release').toEqual([]);
      return told;
    };
    const releaseOfBoth = async () => {
      const g = await sc.waitGroup('the release of both at its gate', (x) => x.status?.phase === 'Paused' && x.status.release?.targets.length === 2);
      ofBoth.add(g.status!.release!.id);
      return g.status!.release!.id;
    };
    for (const m of sc.members) await sc.kube.setImage(sc.ns, m, `ghcr.io/acme/${m}:2.0`);
    const id = await releaseOfBoth();
    await waitFor('the waiting notification, after one refusal', async () => delivered().includes(`on-release-waiting ${id}`), { dump: sc.dump });
    expect(delivered()).toEqual([`on-release-started ${id}`, `on-release-waiting ${id}`]);
    const refusals = hooks().filter((x) => x.status === 503);
    expect(refusals.map((x) => x.body.trigger)).toEqual(['on-release-waiting']);
    expect(c.records('notification not delivered; retrying')).toHaveLength(1);
    const started = hooks().find((x) => x.status === 200 && x.body.trigger === 'on-release-started' && x.body.release.id === id)!;
    expect(started.headers['x-token']).toBe('t0ken');
    expect(started.body).toMatchObject({ group: { namespace: sc.ns, name: 'loans' }, release: { id, state: 'Gating' } });
    expect(started.body.message).toBe(`Release ${id} of RolloutGroup ${sc.ns}/loans started: ${started.body.release.targetList}`);
    // Recorded on the group, as Argo's notifications engine records what it sent.
    const recorded = await waitFor('the record', async () => {
      const g = await sc.kube.group(sc.ns, 'loans');
      const v = (g.metadata as { annotations?: Record<string, string> }).annotations?.['notifications.tandem.dev/notified'];
      return v && JSON.parse(v).sent.length === 2 ? JSON.parse(v) : undefined;
    });
    expect(recorded).toEqual({ release: id, sent: ['started@receiver', 'waiting/0@receiver'] });

    // A controller killed at the gate, and a new one: it sends nothing the record holds.
    await c.kill('SIGKILL');
    c = sc.startController('controller-2', args);
    await sc.kube.annotateGroup(sc.ns, 'loans', { 'tandem.dev/promote': id });
    await sc.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 120_000);
    await waitFor('the completion notifications', async () => delivered().includes(`on-release-completed ${id}`) && r.received.some((x) => x.path === '/slack'), { dump: sc.dump });
    expect(delivered()).toEqual([`on-release-started ${id}`, `on-release-waiting ${id}`, `on-release-promoted ${id}`, `on-release-completed ${id}`]);
    const slack = r.received.filter((x) => x.path === '/slack');
    expect(slack).toHaveLength(1);
    expect(slack[0]!.body).toMatchObject({ text: `Release ${id} of RolloutGroup ${sc.ns}/loans completed: the group is Healthy`, channel: 'deploys', username: 'tandem' });
    expect(slack[0]!.body.attachments[0].fields[1]).toEqual({ title: 'Release', value: id, short: true });

    // An aborted release: its own messages, none for the release before.
    for (const m of sc.members) await sc.kube.setImage(sc.ns, m, `ghcr.io/acme/${m}:3.0`);
    const second = await releaseOfBoth();
    await sc.kube.annotateGroup(sc.ns, 'loans', { 'tandem.dev/abort': 'smoke tests failed' });
    await waitFor('the abort notification', async () => delivered().includes(`on-release-aborted ${second}`), { dump: sc.dump });
    const aborted = hooks().find((x) => x.body.trigger === 'on-release-aborted')!;
    expect(aborted.body.release).toMatchObject({ id: second, abortReason: expect.stringContaining('smoke tests failed') });
    expect(delivered()).toEqual([
      `on-release-started ${id}`,
      `on-release-waiting ${id}`,
      `on-release-promoted ${id}`,
      `on-release-completed ${id}`,
      `on-release-started ${second}`,
      `on-release-waiting ${second}`,
      `on-release-aborted ${second}`,
    ]);
    // The second controller sent, of the first release, only what came after its start.
    const bySecond = c.records('notification sent').filter((x) => x['release'] === id).map((x) => `${x['trigger']} ${x['destination']}`);
    expect(bySecond.sort()).toEqual(['on-release-completed receiver', 'on-release-completed slack:deploys', 'on-release-promoted receiver']);
  });

  it("config/notifications: kustomize mounts the ConfigMap and the Secret into config/default's controller", () => {
    const overlay = mkdtempSync(join(tmpdir(), 'tandem-notifications-overlay-'));
    const rel = (p: string) => relative(overlay, join(process.cwd(), p));
    writeFileSync(join(overlay, 'kustomization.yaml'), `resources:\n- ${rel('config/default')}\ncomponents:\n- ${rel('config/notifications')}\n`);
    const objs = parseAllDocuments(execFileSync(inject('kubectl'), ['kustomize', overlay], { encoding: 'utf8' })).map((d) => d.toJS() as any);
    const cm = objs.find((o) => o.kind === 'ConfigMap');
    expect(cm.metadata).toMatchObject({ name: 'tandem-notifications-cm', namespace: 'tandem-system' });
    const pod = objs.find((o) => o.kind === 'Deployment').spec.template.spec;
    expect(pod.containers[0].args).toEqual(expect.arrayContaining(['--notifications-config-dir=/etc/tandem/notifications', '--notifications-secret-dir=/etc/tandem/notifications-secret']));
    expect(pod.volumes).toEqual(expect.arrayContaining([{ name: 'notifications', configMap: { name: 'tandem-notifications-cm' } }, { name: 'notifications-secret', secret: { secretName: 'tandem-notifications-secret', optional: true } }]));
  });
});
