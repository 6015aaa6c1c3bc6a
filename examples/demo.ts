// npm run demo: starts the local control plane and Tandem, then releases a frontend (loan) and its
// backend (interest) together, printing each step, so a newcomer sees what happens and in which order.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { formatPairs, LiveTraffic, pairOf, pairsBySecond, type Answer } from './real-node/live-traffic.ts';

const step = (n: number, text: string) => console.log(`\n\x1b[1m── ${n}. ${text}\x1b[0m`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

step(1, 'Start the local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok, Argo Rollouts)');
const up = execFileSync('bash', ['test/cluster/cluster.sh', 'up'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const kubeconfig = /KUBECONFIG=(.+)$/.exec(up.trim())![1]!;
const stack = execFileSync('bash', ['-c', '. test/cluster/versions.sh && echo "$STACK_DIR"'], { encoding: 'utf8' }).trim();
const ns = `demo-${randomBytes(2).toString('hex')}`;
const kubectl = (...args: string[]) => execFileSync(`${stack}/bin/kubectl`, ['--kubeconfig', kubeconfig, '-n', ns, ...args], { encoding: 'utf8' });
const show = (...args: string[]) => {
  console.log(`$ kubectl ${args.join(' ')}`);
  process.stdout.write(kubectl(...args));
};
console.log(`export KUBECONFIG=${kubeconfig}`);

// The real node (a kubelet running loan and interest as real pods) when this machine can run it.
const check = spawnSync('bash', ['test/cluster/cluster.sh', 'real-node', 'check'], { encoding: 'utf8' });
let netns: string | undefined;
if (check.status !== 0) {
  console.log(`\x1b[33mFalling back to kwok's fake pods (no app runs, no traffic): ${check.stdout.trim() || check.stderr.trim()}\x1b[0m`);
} else {
  console.log('Adding the real node: containerd, kubelet, kube-proxy and CoreDNS in their own network namespace');
  const real = spawnSync('bash', ['test/cluster/cluster.sh', 'real-node', 'up'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  netns = /REAL_NODE_NETNS=(\S+)/.exec(real.stdout ?? '')?.[1];
  if (real.status !== 0 || !netns) console.log(`\x1b[33mThe real node did not start (exit ${real.status}); falling back to kwok's fake pods.\x1b[0m`);
}
const examples = netns ? 'examples/real-node' : 'examples/loan-interest';
const image = (app: string, version: string) => (netns ? `tandem.local/${app}:${version}` : `ghcr.io/acme/${app}:${version}`);

step(2, 'Install the RolloutGroup CRD and create a namespace');
show('apply', '--server-side', '-f', 'crds/rolloutgroup.yaml');
show('wait', '--for=condition=Established', 'crd/rolloutgroups.tandem.dev');
show('create', 'namespace', ns);

step(3, 'Run the Tandem controller (JSON logs go to tandem-demo.log)');
const log = createWriteStream('tandem-demo.log');
const controller = spawn(process.execPath, ['dist/cli.js', 'controller', '--kubeconfig', kubeconfig, '--namespace', ns], { stdio: ['ignore', 'pipe', 'pipe'] });
controller.stdout.pipe(log);
controller.stderr.pipe(log);
process.on('exit', () => controller.kill('SIGTERM'));

const group = () => JSON.parse(kubectl('get', 'rolloutgroup', 'loans', '-o', 'json')) as { status?: { phase?: string; message?: string; release?: { id: string; promotedMembers?: string[] } } };
async function until(what: string, done: (g: ReturnType<typeof group>) => boolean) {
  let last = '';
  const started = performance.now();
  for (let i = 0; i < 1200; i++) {
    const g = group();
    const line = `   ${g.status?.phase ?? '-'}: ${g.status?.message ?? ''}`;
    if (line !== last) console.log(line);
    last = line;
    if (done(g)) {
      console.log(`   (${((performance.now() - started) / 1000).toFixed(1)} s)`);
      return g;
    }
    await sleep(250);
  }
  throw new Error(`gave up waiting for ${what}; see tandem-demo.log`);
}

step(4, `Apply the example (${examples}): interest (backend), loan (frontend, depends on interest), and the group`);
show('apply', '--server-side', '-f', `${examples}/`);
await until('the group to be Healthy', (g) => g.status?.phase === 'Healthy');
show('get', 'rolloutgroups,rollouts');

step(5, "Tandem wired loan to interest: loan's active pods get interest's active address");
await sleep(2000);
show('get', 'pods', '-l', 'app=loan', '-o', "jsonpath={range .items[*]}{.metadata.name}{'  '}{.metadata.annotations.tandem\\.dev/interest-url}{'\\n'}{end}");

let traffic: LiveTraffic | undefined;
let ticker: NodeJS.Timeout | undefined;
if (netns) {
  const ip = kubectl('get', 'service', 'loan-active', '-o', 'jsonpath={.spec.clusterIP}');
  console.log(`\n   Live traffic: 25 requests/s to loan's active Service (http://${ip}:8080, from inside the node's network namespace).`);
  console.log('   Each second prints which (loan → interest) versions answered. New loan with old interest would show as 2.0→1.0;');
  console.log("   1.0→2.0 is old loan, in the moment between Tandem's address change and its Service's switch (DESIGN §4a).");
  let printed = 0;
  const pending: Answer[] = [];
  traffic = LiveTraffic.start(netns, `http://${ip}:8080/api/v1/status`, { rate: 25, onAnswer: (a) => pending.push(a) });
  ticker = setInterval(() => {
    const now = Math.floor(Date.now() / 1000);
    for (const { second, pairs } of pairsBySecond(pending)) {
      if (second >= now - 3 || second <= printed) continue;   // answers time out after 3 s
      console.log(`   \x1b[36mtraffic ${new Date(second * 1000).toISOString().slice(11, 19)}  ${formatPairs(pairs)}\x1b[0m`);
      printed = second;
    }
  }, 1000);
  await sleep(5000);
}

step(6, 'Release version 2.0 of both services (what a Git change would do)');
for (const app of ['interest', 'loan']) {
  show('patch', 'rollout', app, '--type', 'json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: image(app, '2.0') }]));
}
const paused = await until('the release to wait at the gate', (g) => g.status?.phase === 'Paused');
const id = paused.status!.release!.id;
console.log(`   Both previews are ready; nothing goes live until someone promotes release ${id}.`);
show('get', 'rolloutgroups', '-o', 'wide');

step(7, `Promote release ${id}`);
show('annotate', 'rolloutgroup', 'loans', `tandem.dev/promote=${id}`);
await until('the release to complete', (g) => g.status?.phase === 'Healthy' && !g.status.release);

if (traffic) {
  await sleep(8000);
  await traffic.stop();
  clearInterval(ticker);
  const totals = new Map<string, number>();
  for (const a of traffic.answers) totals.set(pairOf(a), (totals.get(pairOf(a)) ?? 0) + 1);
  const count = (loan: string, interest: string) => traffic.answers.filter((a) => a.loan === loan && a.interest === interest).length;
  const outgoing = traffic.answers.filter((a) => a.loan === '1.0' && a.interest === '2.0').length;
  console.log(`\n   ${traffic.answers.length} answers: ${formatPairs(totals)}`);
  console.log(`   mismatched answers: new loan with old interest (2.0→1.0): ${count('2.0', '1.0')}; old loan with new interest (1.0→2.0): ${outgoing}`);
}

step(8, 'The end state: both on 2.0, promoted dependents first');
show('get', 'rolloutgroups,rollouts');
show('get', 'events', '--field-selector', 'involvedObject.name=loans', '--sort-by', '.lastTimestamp', '-o', 'custom-columns=REASON:.reason,MESSAGE:.message');
console.log(`\nDone. The cluster is still up: export KUBECONFIG=${kubeconfig}; stop it with \`npm run cluster -- down\`.`);
controller.kill('SIGTERM');
