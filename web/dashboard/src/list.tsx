import { useEffect, useState } from 'preact/hooks';
import type { GroupSummary } from '../../../src/dashboard/view-types.ts';
import { age, tone } from './format.ts';

const PHASES = ['Healthy', 'Progressing', 'Paused', 'Promoting', 'Degraded', 'Unknown'];

/** Re-renders every few seconds so ages move without a push. */
export function useNow(everyMs = 5000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

export function GroupList({ groups, showNamespace }: { groups: readonly GroupSummary[]; showNamespace: boolean }) {
  const [search, setSearch] = useState('');
  const [phase, setPhase] = useState('');
  const now = useNow();
  const q = search.trim().toLowerCase();
  const shown = groups.filter((g) => (!q || g.key.toLowerCase().includes(q) || (g.releaseId ?? '').includes(q)) && (!phase || g.phase === phase));
  return (
    <section aria-labelledby="groups-title">
      <h1 id="groups-title">Rollout groups</h1>
      <div class="filters">
        <label>
          Search
          <input type="search" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} placeholder="name, namespace or release" />
        </label>
        <label>
          Phase
          <select value={phase} onChange={(e) => setPhase((e.target as HTMLSelectElement).value)}>
            <option value="">any</option>
            {PHASES.map((p) => (
              <option value={p}>{p}</option>
            ))}
          </select>
        </label>
        <span class="count">
          {shown.length} of {groups.length}
        </span>
      </div>
      {shown.length === 0 ? (
        <p>No rolloutgroups{groups.length > 0 ? ' match' : ' found'}.</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Groups table">
          <table class="groups">
            <thead>
              <tr>
                {showNamespace && <th scope="col">Namespace</th>}
                <th scope="col">Name</th>
                <th scope="col">Strategy</th>
                <th scope="col">Phase</th>
                <th scope="col">Release</th>
                <th scope="col">Ready</th>
                <th scope="col">Age</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((g) => (
                <tr data-group={g.key}>
                  {showNamespace && <td>{g.namespace}</td>}
                  <td>
                    <a href={`#/groups/${encodeURIComponent(g.namespace)}/${encodeURIComponent(g.name)}`}>{g.name}</a>
                  </td>
                  <td>{g.strategy}</td>
                  <td>
                    <span class={`badge ${tone(g.phase)}`}>{g.phase}</span>
                  </td>
                  <td class="mono">{g.releaseId ? `${g.releaseId} (${g.releaseState})` : '-'}</td>
                  <td>{g.readyMembers}</td>
                  <td>{age(g.createdAt, now)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
