import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { DashboardState } from '../../../src/dashboard/view-types.ts';
import { follow, type Connection } from './api.ts';
import { GroupList } from './list.tsx';
import { GroupPage } from './group.tsx';
import './styles.css';

/** `#/` the list, `#/groups/<ns>/<name>` a group: hash routes, so the server serves one page. */
function route(): { ns: string; name: string } | undefined {
  const m = /^#\/groups\/([^/]+)\/([^/]+)$/.exec(location.hash);
  return m ? { ns: decodeURIComponent(m[1]!), name: decodeURIComponent(m[2]!) } : undefined;
}

function App() {
  const [state, setState] = useState<DashboardState | undefined>(undefined);
  const [connection, setConnection] = useState<Connection>('connecting');
  const [where, setWhere] = useState(route());
  useEffect(() => follow(setState, setConnection), []);
  useEffect(() => {
    const onHash = () => setWhere(route());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const group = where && state?.groups.find((g) => g.namespace === where.ns && g.name === where.name);
  return (
    <>
      <header class="top">
        <a class="brand" href="#/">Tandem</a>
        <span class="scope">{state ? (state.namespace ? `namespace ${state.namespace}` : 'all namespaces') : ''}</span>
        <span class={`conn conn-${connection}`} role="status" aria-live="polite">
          {connection === 'live' ? 'live' : connection === 'connecting' ? 'connecting…' : 'reconnecting…'}
        </span>
      </header>
      <main id="main">
        {state && state.problems.length > 0 && (
          <div class="banner" role="alert">
            Some watches are failing; what is shown may be out of date: {state.problems.join('; ')}
          </div>
        )}
        {!state ? (
          <p>Loading…</p>
        ) : where ? (
          group ? (
            <GroupPage group={group} />
          ) : (
            <p>
              No rolloutgroup {where.ns}/{where.name} (yet). <a href="#/">All groups</a>
            </p>
          )
        ) : (
          <GroupList groups={state.groups} showNamespace={state.namespace === undefined} />
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
