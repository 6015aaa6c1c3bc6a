import { useEffect, useRef, useState } from 'preact/hooks';
import type { ActionName, GroupView } from '../../../src/dashboard/view-types.ts';
import { requestAction } from './api.ts';
import { short, time, tone } from './format.ts';
import { Graph, sideText } from './graph.tsx';

const LABEL: Record<ActionName, string> = { promote: 'Promote', abort: 'Abort', retry: 'Retry' };

interface Notice {
  readonly ok: boolean;
  readonly message: string;
  /** When it was requested: a controller refusal after it is shown too. */
  readonly at: string;
}

/** What the confirmation says will happen, in the group's own terms. */
function consequence(g: GroupView, action: ActionName): string {
  const movers = [...g.members].filter((m) => m.inRelease).sort((a, b) => a.promotionIndex - b.promotionIndex).map((m) => m.rollout);
  const r = g.release;
  if (action === 'promote') {
    const stage = r && r.stages > 1 ? ` stage ${r.stage} of ${r.stages}` : '';
    return `Tandem opens the gate of release ${r?.id ?? ''}${stage} and promotes ${movers.join(', then ') || 'its members'} (${g.strategy === 'Lockstep' ? 'dependents first' : g.order ?? 'in order'}).`;
  }
  if (action === 'abort') {
    return `Tandem aborts release ${r?.id ?? ''}: every changed member (${movers.join(', ')}) goes back to its stable revision; members already promoted are rolled back. The group becomes Degraded with your reason.`;
  }
  return `Tandem retries release ${r?.id ?? ''} from the start; it refuses retries it cannot make safely and says why.`;
}

function Confirm({ group, action, onClose }: { group: GroupView; action: ActionName; onClose: (n?: Notice) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const view = group.actions[action];
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  if (!view.available) return null;
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const at = new Date().toISOString();
    const res = await requestAction(group.namespace, group.name, action, { expect: view.value, ...(action === 'abort' ? { reason } : {}) });
    setBusy(false);
    ref.current?.close();
    onClose({ ok: res.ok, message: res.message, at });
  };
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onCancel={() => onClose()}>
      <form method="dialog" onSubmit={submit}>
        <h2 id="confirm-title">
          {LABEL[action]} release {group.release?.id} of {group.namespace}/{group.name}?
        </h2>
        <p>{consequence(group, action)}</p>
        <p class="small">
          Writes <code>{view.annotation}: {action === 'abort' ? '<your reason>' : view.value}</code> on the group with your credentials.
        </p>
        {action === 'abort' && (
          <label class="block">
            Reason (shown in the group’s status and events)
            <textarea required maxLength={1024} rows={2} value={reason} onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)} />
          </label>
        )}
        <div class="buttons">
          <button type="button" onClick={() => { ref.current?.close(); onClose(); }}>
            Cancel
          </button>
          <button type="submit" class={action === 'abort' ? 'danger' : 'primary'} disabled={busy || (action === 'abort' && reason.trim() === '')}>
            {LABEL[action]} release {group.release?.id}
          </button>
        </div>
      </form>
    </dialog>
  );
}

export function GroupPage({ group: g }: { group: GroupView }) {
  const [confirming, setConfirming] = useState<ActionName | undefined>(undefined);
  const [notice, setNotice] = useState<Notice | undefined>(undefined);
  // A request the controller refused is answered by a Warning event (e.g. PromoteRefused) after it.
  const refusal = notice?.ok ? g.events.find((e) => e.type === 'Warning' && /Refused$/.test(e.reason) && e.last >= notice.at.slice(0, 19)) : undefined;
  const r = g.release;
  return (
    <article aria-labelledby="group-title">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/">All groups</a> / {g.namespace}
      </nav>
      <header class="group-head">
        <h1 id="group-title">{g.name}</h1>
        <span class={`badge big ${tone(g.phase)}`} data-testid="phase">
          {g.phase}
        </span>
        <span class="meta">
          {g.strategy}
          {g.order ? ` · ${g.order}` : ''} · promotion {g.autoPromotion ? 'automatic' : 'on request'}
          {g.paused ? ' · PAUSED (observing only)' : ''}
          {!g.observed ? ' · spec change not yet observed' : ''}
        </span>
      </header>
      <p class="message" data-testid="message">{g.message}</p>

      <section class="release" aria-labelledby="release-title">
        <h2 id="release-title">Release</h2>
        {r ? (
          <p>
            <span class="mono">{r.id}</span> <span class={`badge ${tone(r.state)}`}>{r.state}</span>
            {r.stages > 1 ? ` stage ${r.stage}/${r.stages}` : ''} · started {time(r.startedAt)}
            {r.promotedMembers.length > 0 ? ` · moved on: ${r.promotedMembers.join(', ')}` : ''}
            {r.abortReason ? ` · reason: ${r.abortReason}` : ''}
          </p>
        ) : (
          <p>No release in flight.</p>
        )}
        {r && r.analysisRuns.length > 0 && (
          <table class="analysis" aria-label="Group analysis">
            <thead>
              <tr>
                <th scope="col">Analysis</th>
                <th scope="col">Point</th>
                <th scope="col">Phase</th>
                <th scope="col">Measurements that decided</th>
              </tr>
            </thead>
            <tbody>
              {r.analysisRuns.map((a) => (
                <tr data-testid="analysis-run">
                  <td class="mono">{a.name}</td>
                  <td>
                    {a.point}
                    {r.stages > 1 ? ` (stage ${a.stage})` : ''}
                  </td>
                  <td>
                    <span class={`badge ${tone(a.phase)}`}>{a.phase}</span>
                    {a.accepted ? ' · let pass by a person' : ''}
                  </td>
                  <td>{a.message ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <div class="actions" role="group" aria-label="Release actions">
          {(['promote', 'abort', 'retry'] as const).map((a) => {
            const v = g.actions[a];
            return (
              <button type="button" class={a === 'abort' ? 'danger' : a === 'promote' ? 'primary' : ''} disabled={!v.available} title={v.available ? v.summary.replace(' requested', '') : v.why} onClick={() => setConfirming(a)}>
                {LABEL[a]}
              </button>
            );
          })}
        </div>
        {Object.keys(g.pending).length > 0 && (
          <p class="small">
            Waiting for the controller: {Object.entries(g.pending).map(([k, v]) => `${k}=${v}`).join(', ')}
          </p>
        )}
        <div role="status" aria-live="polite" class="notices">
          {notice && (
            <p class={notice.ok ? 'ok' : 'refused'} data-testid="notice">
              {notice.ok ? '' : 'Refused: '}
              {notice.message}
            </p>
          )}
          {refusal && (
            <p class="refused" data-testid="controller-refusal">
              The controller refused it ({refusal.reason}): {refusal.message}
            </p>
          )}
        </div>
      </section>

      <section aria-labelledby="graph-title">
        <h2 id="graph-title">Dependency graph</h2>
        <div class="graph-wrap" tabIndex={0} role="region" aria-label="Dependency graph drawing">
          <Graph members={g.members} edges={g.edges} />
        </div>
      </section>

      <section aria-labelledby="members-title">
        <h2 id="members-title">Members</h2>
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Members table">
          <table class="members">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Rollout</th>
                <th scope="col">Strategy</th>
                <th scope="col">Phase</th>
                <th scope="col">State</th>
                <th scope="col">Stable</th>
                <th scope="col">Desired</th>
                <th scope="col">Images</th>
                <th scope="col">Services</th>
              </tr>
            </thead>
            <tbody>
              {[...g.members].sort((a, b) => a.promotionIndex - b.promotionIndex).map((m) => (
                <tr data-member={m.rollout}>
                  <td>{m.promotionIndex}</td>
                  <td>{m.rollout}</td>
                  <td>{m.strategy ?? '-'}</td>
                  <td>{m.phase ?? '-'}</td>
                  <td>
                    <span class={`badge ${tone(m.state)}`} data-testid="member-state">{m.state}</span>
                  </td>
                  <td class="mono">{short(m.stableRevision)}</td>
                  <td class="mono">{short(m.desiredRevision)}</td>
                  <td class="mono small">{m.images.join(', ')}</td>
                  <td class="small">
                    {m.services.map((s) => (
                      <div>
                        {s.role}: {s.name} → <span class="mono">{s.exists ? short(s.selects) : 'missing'}</span>
                        {s.selects && s.selects === m.desiredRevision && s.selects !== m.stableRevision ? ' (desired)' : s.selects && s.selects === m.stableRevision ? ' (stable)' : ''}
                      </div>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section aria-labelledby="wiring-title">
        <h2 id="wiring-title">Wiring</h2>
        {g.edges.length === 0 ? (
          <p>No dependencies.</p>
        ) : (
          <div class="table-wrap" tabIndex={0} role="region" aria-label="Wiring table">
            <table class="wiring">
              <thead>
                <tr>
                  <th scope="col">Dependent</th>
                  <th scope="col">Calls</th>
                  <th scope="col">Annotation</th>
                  <th scope="col">New pods</th>
                  <th scope="col">Live pods</th>
                </tr>
              </thead>
              <tbody>
                {g.edges.map((e) => (
                  <tr data-edge={`${e.from}->${e.to}`}>
                    <td>{e.from}</td>
                    <td>{e.to}</td>
                    <td class="mono small">{e.annotation}</td>
                    <td class="small" data-testid="new-side">
                      {sideText(e.newSide)}
                      <div class="mono url">{e.newSide.url}</div>
                    </td>
                    <td class="small" data-testid="live-side">
                      {sideText(e.liveSide)}
                      {e.repointed ? ' · repointed for the cutover' : ''}
                      <div class="mono url">{e.liveSide.url}</div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <div class="two">
        <section aria-labelledby="timeline-title">
          <h2 id="timeline-title">Timeline</h2>
          {g.timeline.length === 0 ? (
            <p>Nothing yet.</p>
          ) : (
            <ol class="timeline">
              {g.timeline.map((t) => (
                <li class={`tl-${t.tone}`}>
                  <time dateTime={t.at}>{time(t.at)}</time> <strong>{t.what}</strong>
                  {t.detail ? <span class="small"> {t.detail}</span> : null}
                </li>
              ))}
            </ol>
          )}
        </section>
        <section aria-labelledby="conditions-title">
          <h2 id="conditions-title">Conditions</h2>
          <ul class="conditions">
            {g.conditions.map((c) => (
              <li data-condition={c.type}>
                <span class={`badge ${tone(c.status === 'True' ? 'True' : 'Progressing')}`}>
                  {c.type}={c.status}
                </span>{' '}
                <strong>{c.reason}</strong> <span class="small">{c.message}</span>
              </li>
            ))}
          </ul>
        </section>
      </div>

      <section aria-labelledby="events-title">
        <h2 id="events-title">Events</h2>
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Events table">
          <table class="events">
            <thead>
              <tr>
                <th scope="col">Last</th>
                <th scope="col">Type</th>
                <th scope="col">Reason</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              {g.events.map((e) => (
                <tr class={e.type === 'Warning' ? 'warning' : ''}>
                  <td>{time(e.last)}</td>
                  <td>{e.type}</td>
                  <td>{e.reason}{e.count > 1 ? ` ×${e.count}` : ''}</td>
                  <td class="small">{e.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      {confirming && (
        <Confirm
          group={g}
          action={confirming}
          onClose={(n) => {
            setConfirming(undefined);
            if (n) setNotice(n);
          }}
        />
      )}
    </article>
  );
}
