/** `4m`, `2h`, `3d`: kubectl's age column. */
export function age(since: string | undefined, now: number): string {
  if (!since) return '-';
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export const short = (rev: string | undefined) => (rev ? rev.slice(0, 10) : '-');

export const time = (iso: string) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString(undefined, { hour12: false });
};

/** CSS class of a phase or state, by meaning. */
export function tone(word: string): string {
  if (['Healthy', 'Stable', 'Promoted', 'True', 'Successful'].includes(word)) return 'tone-good';
  if (['Degraded', 'Failed', 'Missing', 'Aborted', 'RolledBack', 'RollingBack', 'Error'].includes(word)) return 'tone-bad';
  if (['Paused', 'Ready', 'Gating', 'Inconclusive'].includes(word)) return 'tone-wait';
  return 'tone-busy';
}
