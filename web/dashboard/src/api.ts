import type { ActionName, ActionRequest, ActionResponse, DashboardState } from '../../../src/dashboard/view-types.ts';

/** The token the server put in the page: actions carry it in a header a cross-site form cannot set. */
const csrf = document.querySelector<HTMLMetaElement>('meta[name="tandem-csrf"]')?.content ?? '';

export type Connection = 'connecting' | 'live' | 'reconnecting';

/**
 * Follows the server's event stream: one `state` event per change of what the watches hold.
 * EventSource reconnects by itself (the server asks for 1 s), so a restart of the dashboard server,
 * the controller or the API server only shows as "reconnecting" for a moment.
 */
export function follow(onState: (s: DashboardState) => void, onConnection: (c: Connection) => void): () => void {
  const es = new EventSource('/api/stream');
  es.addEventListener('state', (e) => {
    onConnection('live');
    onState(JSON.parse((e as MessageEvent<string>).data) as DashboardState);
  });
  es.addEventListener('error', () => onConnection('reconnecting'));
  return () => es.close();
}

export async function requestAction(namespace: string, name: string, action: ActionName, body: ActionRequest): Promise<ActionResponse> {
  try {
    const res = await fetch(`/api/groups/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${action}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Tandem-CSRF': csrf },
      body: JSON.stringify(body),
      credentials: 'same-origin',
    });
    return (await res.json()) as ActionResponse;
  } catch (err) {
    return { ok: false, message: `the dashboard server did not answer: ${(err as Error).message}` };
  }
}
