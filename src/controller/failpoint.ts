/**
 * Crash points for tests, in the manner of etcd's gofail: with TANDEM_FAILPOINT=after-status:<Reason>
 * the process kills itself with SIGKILL right after persisting a status that records that event;
 * with after-action:<Kind> right after performing such an action (before the status says so).
 * Unset in production; it lets end-to-end tests crash the controller at an exact step.
 */
export function crashIfArmed(failpoint: string | undefined, reached: string): void {
  if (failpoint !== undefined && failpoint === reached) process.kill(process.pid, 'SIGKILL');
}
