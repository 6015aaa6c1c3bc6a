/**
 * Issue 17: the dashboard (`kubectl rolloutgroup dashboard`) in Debian's chromium, against the local
 * stack with a live controller: the list, a loan + interest release at its gate (both previews ready,
 * the graph and the wiring), Promote to Healthy without a reload, Abort to Degraded with its reason,
 * a read-only user's refusal, an axe-core check, and the screenshots of docs/dashboard.md.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { axeViolations, BlipProxy, DashboardProcess, launchBrowser, readOnlyKubeconfig, screenshot } from './support/dashboard.ts';
import { Scenario } from './support/scenario.ts';
import { verdictServer, type VerdictServer } from './support/verdict-server.ts';

const DESKTOP = { width: 1280, height: 800 };
const NARROW = { width: 390, height: 844 };

let browser: Browser;
const scenarios: Scenario[] = [];
const dashboards: DashboardProcess[] = [];
const proxies: BlipProxy[] = [];
const verdicts: VerdictServer[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await Promise.all(dashboards.map((d) => d.stop()));
  await Promise.all(proxies.map((p) => p.stop()));
  await Promise.all(verdicts.map((v) => v.close()));
  await Promise.all(scenarios.map((s) => s.cleanup()));
});

async function loans(prefix: string): Promise<Scenario> {
  const s = await Scenario.create(prefix, 'loans', ['interest', 'loan']);
  scenarios.push(s);
  for (const f of ['interest', 'loan', 'group']) await s.kube.applyFile(s.ns, `examples/loan-interest/${f}.yaml`);
  s.startController();
  await s.waitSteady();
  return s;
}

async function dashboard(kubeconfig: string, ns: string | 'all'): Promise<DashboardProcess> {
  const d = await DashboardProcess.start(kubeconfig, ns === 'all' ? ['-A'] : ['-n', ns]);
  dashboards.push(d);
  return d;
}

/** A page that records every navigation and every CSP violation, so "no reload" and "no blocked code" can be asserted. */
async function open(url: string, viewport = DESKTOP): Promise<{ page: Page; loads: string[]; cspViolations: string[] }> {
  const page = await browser.newPage({ viewport });
  const loads: string[] = [];
  const cspViolations: string[] = [];
  page.on('load', () => loads.push(page.url()));
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  await page.goto(url);
  return { page, loads, cspViolations };
}

const phaseBadge = (page: Page) => page.getByTestId('phase');
const waitText = (page: Page, selector: string, text: string | RegExp, timeout = 120_000) => page.locator(selector).filter({ hasText: text }).first().waitFor({ timeout });

/** Tabs through the page until `name` has the focus: proves it is reachable by keyboard alone. */
async function tabTo(page: Page, name: string): Promise<void> {
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate("document.activeElement?.textContent?.trim() ?? ''");
    if (focused === name) return;
  }
  throw new Error(`${name} not reachable with Tab`);
}

/** The group analysis template: one `web` metric, measured `count` times `interval` apart; it fails on the first `ok: false`. */
const releaseCheck = (url: string, count: number, interval: string) => `apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: release-check}
spec:
  args:
  - name: frontend
  metrics:
  - name: ok
    interval: ${interval}
    count: ${count}
    failureLimit: 0
    successCondition: result == true
    provider:
      web:
        url: ${url}?service={{args.frontend}}
        jsonPath: "{$.ok}"
`;

describe('dashboard', () => {
  it('lists the group, shows a release at its gate with graph and wiring, and Promote completes it without a reload', async () => {
    const s = await loans('dash');
    // The dashboard reaches the API server through a relay the test can cut.
    const blip = await BlipProxy.start(inject('kubeconfig'), inject('kubectl'), mkdtempSync(join(tmpdir(), 'tandem-blip-')));
    proxies.push(blip.proxy);
    const d = await dashboard(blip.kubeconfig, s.ns);
    const { page, loads, cspViolations } = await open(d.url);

    // The list: the group, its phase and ready members; the search filter narrows it.
    const row = page.locator(`tr[data-group="${s.ns}/loans"]`);
    await row.filter({ hasText: 'Healthy' }).waitFor();
    await expect(row.textContent()).resolves.toMatch(/loansLockstepHealthy-2\/2/);
    await page.getByLabel('Search').fill('no-such-group');
    await page.getByText('No rolloutgroups match.').waitFor();
    await page.getByLabel('Search').fill('loans');
    await row.waitFor();
    await screenshot(page, 'dashboard-list.png');
    expect(await axeViolations(page)).toEqual([]);

    await row.getByRole('link', { name: 'loans' }).click();
    await page.getByRole('heading', { name: 'loans', level: 1 }).waitFor();
    await expect(phaseBadge(page).textContent()).resolves.toBe('Healthy');

    // A release of both services: the page follows it to the gate with no reload.
    for (const m of s.members) await s.kube.setImage(s.ns, m, `ghcr.io/acme/${m}:2.0`);
    const gated = await s.waitPhase('Paused');
    const release = gated.status!.release!;
    await waitText(page, '[data-testid=phase]', 'Paused');
    await waitText(page, '.release', release.id);
    for (const m of s.members) {
      const rollout = await s.kube.rollout(s.ns, m);
      const desired = rollout.status!['currentPodHash'] as string;
      const memberRow = page.locator(`table.members tr[data-member="${m}"]`);
      // Both previews ready: Tandem's state, and the preview Service selecting the new revision.
      await memberRow.locator('[data-testid=member-state]').filter({ hasText: /^Ready$/ }).waitFor();
      await expect(memberRow.textContent()).resolves.toContain(`preview: ${m}-preview → ${desired.slice(0, 10)} (desired)`);
      await expect(memberRow.textContent()).resolves.toContain(`ghcr.io/acme/${m}:2.0`);
      // The graph draws every member as a node with its state and revisions.
      const node = page.locator(`svg.graph g[data-member="${m}"]`);
      await expect(node.textContent()).resolves.toContain('Ready');
      await expect(node.textContent()).resolves.toContain(`desired ${desired.slice(0, 10)}`);
    }
    // loan calls interest: the edge, its annotation, preview → preview and active → active.
    const edge = page.locator('svg.graph g[data-edge="loan->interest"]');
    await expect(edge.textContent()).resolves.toContain('tandem.dev/interest-url');
    await expect(edge.textContent()).resolves.toContain('preview → interest-preview (preview)');
    await expect(edge.textContent()).resolves.toContain('active → interest-active (active)');
    const wiring = page.locator('table.wiring tr[data-edge="loan->interest"]');
    await expect(wiring.getByTestId('new-side').textContent()).resolves.toContain(`http://interest-preview.${s.ns}.svc.cluster.local:8080`);
    await expect(wiring.getByTestId('live-side').textContent()).resolves.toContain(`http://interest-active.${s.ns}.svc.cluster.local:8080`);
    await screenshot(page, 'dashboard-gate.png');
    expect(await axeViolations(page)).toEqual([]);

    // An API server blip: the page says its data may be stale, then recovers by itself.
    const stale = page.getByRole('alert').filter({ hasText: 'Some watches are failing' });
    await blip.proxy.cut();
    await stale.waitFor({ timeout: 30_000 });
    await blip.proxy.restore();
    await stale.waitFor({ state: 'detached', timeout: 30_000 });
    // A controller restart: the page goes on with the new one.
    await s.controller.kill('SIGKILL');
    s.startController();

    // Promote: the confirmation names the release and the order; the request is the plugin's.
    await page.getByRole('button', { name: 'Promote', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.textContent()).resolves.toContain(`Promote release ${release.id} of ${s.ns}/loans?`);
    await expect(dialog.textContent()).resolves.toContain('promotes loan, then interest (dependents first)');
    await expect(dialog.textContent()).resolves.toContain(`tandem.dev/promote: ${release.id}`);
    await dialog.getByRole('button', { name: `Promote release ${release.id}` }).click();
    await waitText(page, '[data-testid=notice]', `promote of release ${release.id} requested`, 10_000);
    await waitText(page, '[data-testid=phase]', 'Healthy', 180_000);
    await page.getByText('No release in flight.').waitFor();
    for (const m of s.members) {
      const r = await s.kube.rollout(s.ns, m);
      expect(r.status!['stableRS']).toBe(release.targets.find((t) => t.rollout === m)!.revision);
      await page.locator(`table.members tr[data-member="${m}"] [data-testid=member-state]`).filter({ hasText: /^Stable$/ }).waitFor();
    }
    // The timeline shows the gate opening and the members moved, from the group's events.
    await waitText(page, '.timeline', 'ReleaseCompleted', 30_000);
    await expect(page.locator('.timeline').textContent()).resolves.toContain('MemberPromoted');
    expect(loads, 'the page was never reloaded').toEqual([d.url]);
    expect(cspViolations).toEqual([]);
    await page.close();

    // -A: every namespace, with a namespace column.
    const all = await dashboard(inject('kubeconfig'), 'all');
    const list = await open(all.url);
    const allRow = list.page.locator(`tr[data-group="${s.ns}/loans"]`);
    await allRow.filter({ hasText: 'Healthy' }).waitFor();
    await expect(allRow.locator('td').first().textContent()).resolves.toBe(s.ns);
    await expect(list.page.locator('header.top .scope').textContent()).resolves.toBe('all namespaces');
    await list.page.close();
  });

  it('Abort shows Degraded with its reason; a user without the right to patch the group sees the refusal', async () => {
    const s = await loans('dash-abort');
    const admin = await dashboard(inject('kubeconfig'), s.ns);
    const viewerConfig = readOnlyKubeconfig(inject('kubectl'), inject('kubeconfig'), s.ns, mkdtempSync(join(tmpdir(), 'tandem-viewer-')));
    const viewer = await dashboard(viewerConfig, s.ns);
    for (const m of s.members) await s.kube.setImage(s.ns, m, `ghcr.io/acme/${m}:2.0`);
    const release = (await s.waitPhase('Paused')).status!.release!;

    // The read-only user sees the release and may ask; the API server refuses the patch, and the page says so.
    const v = await open(`${viewer.url}#/groups/${s.ns}/loans`);
    await waitText(v.page, '[data-testid=phase]', 'Paused');
    await v.page.getByRole('button', { name: 'Promote', exact: true }).click();
    await v.page.getByRole('dialog').getByRole('button', { name: `Promote release ${release.id}` }).click();
    await waitText(v.page, '[data-testid=notice]', /^Refused: rolloutgroup .*forbidden/, 10_000);
    await expect(v.page.getByTestId('notice').textContent()).resolves.toContain(`system:serviceaccount:${s.ns}:dashboard-viewer`);
    await screenshot(v.page, 'dashboard-refused.png');
    expect((await s.kube.group(s.ns, 'loans')).metadata.annotations?.['tandem.dev/promote']).toBeUndefined();
    await v.page.close();

    // Abort with the keyboard only, on a narrow screen: Tab to it, type the reason, confirm with Enter.
    const a = await open(`${admin.url}#/groups/${s.ns}/loans`, NARROW);
    await waitText(a.page, '[data-testid=phase]', 'Paused');
    await tabTo(a.page, 'Abort');
    await a.page.keyboard.press('Enter');
    const dialog = a.page.getByRole('dialog');
    // Escape cancels the confirmation and gives the focus back to the page; Enter opens it again.
    await dialog.waitFor();
    await a.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await tabTo(a.page, 'Abort');
    await a.page.keyboard.press('Enter');
    await expect(dialog.textContent()).resolves.toContain(`Abort release ${release.id} of ${s.ns}/loans?`);
    await dialog.getByLabel(/Reason/).focus();
    await a.page.keyboard.type('dashboard e2e: the new interest rates are wrong');
    await a.page.keyboard.press('Tab'); // Cancel
    await a.page.keyboard.press('Tab'); // Abort release …
    await a.page.keyboard.press('Enter');
    await waitText(a.page, '[data-testid=notice]', `abort of release ${release.id} requested`, 10_000);
    await waitText(a.page, '[data-testid=phase]', 'Degraded', 120_000);
    await waitText(a.page, '.release', 'dashboard e2e: the new interest rates are wrong', 30_000);
    const degraded = await s.waitPhase('Degraded');
    expect(degraded.status!.release!.abortReason).toContain('dashboard e2e: the new interest rates are wrong');
    await waitText(a.page, '.timeline', 'ReleaseAborted', 30_000);
    expect(await axeViolations(a.page)).toEqual([]);
    await screenshot(a.page, 'dashboard-degraded-narrow.png');
    await a.page.setViewportSize(DESKTOP);
    await screenshot(a.page, 'dashboard-degraded.png');

    // Retry: the API server accepts the request, the controller refuses it (blue-green, docs/requests.md),
    // and the page shows the controller's reason.
    await a.page.getByRole('button', { name: 'Retry', exact: true }).click();
    await a.page.getByRole('dialog').getByRole('button', { name: `Retry release ${release.id}` }).click();
    await waitText(a.page, '[data-testid=notice]', `retry of release ${release.id} requested`, 10_000);
    await waitText(a.page, '[data-testid=controller-refusal]', /^The controller refused it \(RetryRefused\): retry request for release /, 60_000);
    expect(a.loads).toHaveLength(1);
    expect(a.cspViolations).toEqual([]);
    await a.page.close();
  });
  it('shows the group analysis of a release live: each run, its phase and the measurement that decided', async () => {
    const verdict = await verdictServer();
    verdicts.push(verdict);
    const s = await Scenario.create('dash-analysis', 'loans', ['interest', 'loan']);
    scenarios.push(s);
    await s.kube.apply(s.ns, releaseCheck(verdict.url, 1, '1s'));
    for (const f of ['interest', 'loan']) await s.kube.applyFile(s.ns, `examples/loan-interest/${f}.yaml`);
    // The example's group with a pre-promotion analysis of loan's preview (docs/analysis.md).
    const example = readFileSync(new URL('../../examples/loan-interest/group.yaml', import.meta.url), 'utf8');
    await s.kube.apply(s.ns, `${example.trimEnd()}
  analysis:
    prePromotion:
      templates: [{templateName: release-check}]
      args: [{name: frontend, value: "{{members.loan.previewService}}"}]
`);
    s.startController();
    await s.waitSteady();
    const d = await dashboard(inject('kubeconfig'), s.ns);
    const { page, loads, cspViolations } = await open(`${d.url}#/groups/${s.ns}/loans`);
    await waitText(page, '[data-testid=phase]', 'Healthy');
    const runRow = (name: string) => page.getByTestId('analysis-run').filter({ hasText: name });
    const recorded = (g: { status?: { release?: unknown } }) => (g.status?.release as { analysisRuns?: { name: string; phase: string; message?: string }[] } | undefined)?.analysisRuns?.[0];

    // A release that passes: the run succeeds, its measurement shown; the gate then waits for a promote.
    for (const m of s.members) await s.kube.setImage(s.ns, m, `ghcr.io/acme/${m}:2.0`);
    const passed = await s.waitGroup('analysis succeeded', (g) => recorded(g)?.phase === 'Successful' && g.status?.phase === 'Paused');
    const first = recorded(passed)!;
    expect(first.name).toBe(`loans-${passed.status!.release!.id}-pre-1`);
    expect(first.message).toBe('metric ok Successful (last value true)');
    await runRow(first.name).filter({ hasText: 'Successful' }).waitFor();
    // Its cells: name, point, phase, the measurements that decided.
    await expect(runRow(first.name).locator('td').allTextContents()).resolves.toEqual([first.name, 'prePromotion', 'Successful', first.message]);
    await waitText(page, '[data-testid=message]', `analysis ${first.name} successful`);

    // A newer revision replaces it before the gate: a longer run, seen Running, then failing on one measurement.
    await s.kube.apply(s.ns, releaseCheck(verdict.url, 60, '2s'));
    for (const m of s.members) await s.kube.setImage(s.ns, m, `ghcr.io/acme/${m}:3.0`);
    const measuring = await s.waitGroup('the new release analysing', (g) => g.status?.release?.id !== passed.status!.release!.id && recorded(g)?.phase === 'Running', 120_000);
    const id = measuring.status!.release!.id;
    const name = `loans-${id}-pre-1`;
    await waitText(page, '.release', id);
    await runRow(name).filter({ hasText: 'Running' }).waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('analysis-run').count()).resolves.toBe(1);
    await waitText(page, '[data-testid=message]', `analysis ${name} running`, 30_000);
    await expect(phaseBadge(page).textContent()).resolves.toBe('Progressing');
    verdict.set(false);

    const aborted = await s.waitGroup('aborted by the analysis', (g) => g.status?.release?.id === id && g.status.release.state === 'Aborted', 120_000);
    const decided = recorded(aborted)!;
    expect([decided.name, decided.phase]).toEqual([name, 'Failed']);
    expect(decided.message).toBe('metric ok Failed (last value false)');
    await waitText(page, '[data-testid=phase]', 'Degraded', 30_000);
    await runRow(name).filter({ hasText: 'Failed' }).waitFor({ timeout: 30_000 });
    await expect(runRow(name).locator('td').allTextContents()).resolves.toEqual([name, 'prePromotion', 'Failed', decided.message]);
    await waitText(page, '.release', `reason: analysis ${name} Failed: metric ok Failed (last value false)`, 30_000);
    await waitText(page, '.timeline', 'AnalysisFailed', 30_000);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'dashboard-analysis.png');
    expect(loads, 'the page was never reloaded').toEqual([`${d.url}#/groups/${s.ns}/loans`]);
    expect(cspViolations).toEqual([]);
    await page.close();
  });
});
