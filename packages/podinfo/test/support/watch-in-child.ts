// Run by pod-info.test.ts in a child process: watches a volume, sees one change, then closes the
// watcher (or not) and lets the event loop run dry. A process that stays alive holds a handle;
// `forget` reports each later change, so the test sees that it still watches.
//   node watch-in-child.ts <dir> <close-watch | close-poll | forget | not-persistent>
import { watchPodInfo } from '../../src/index.ts';
import { KubeletAtomicWriter } from './kubelet-atomic-writer.ts';

const [dir = '', scenario = ''] = process.argv.slice(2);
const info = watchPodInfo(dir, {
  usePolling: scenario === 'close-poll',
  pollIntervalMs: 10,
  debounceMs: 1,
  persistent: scenario !== 'not-persistent',
});
// Holds the process open until the change arrived, whatever the watcher does.
const keepAlive = setInterval(() => {}, 1000);
await info.ready;
const changed = new Promise((resolve) => info.on('change', resolve));
await new KubeletAtomicWriter(dir).write({ annotations: 'gen="2"', labels: 'gen="2"' });
await changed;
clearInterval(keepAlive);
console.log(`changed to ${info.annotation('gen')}`);
if (scenario.startsWith('close')) info.close();
// Left open, the watcher goes on delivering: the test's proof that the process is still watching.
if (scenario === 'forget') info.on('change', () => console.log(`still watching: ${info.annotation('gen')}`));
