// npm run demo: starts the local control plane and Tandem, then releases a frontend (loan) and its
// backend (interest) together, printing each step, so a newcomer sees what happens and in which order.
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';

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

step(4, 'Apply the example: interest (backend), loan (frontend, depends on interest), and the group');
show('apply', '--server-side', '-f', 'examples/loan-interest/');
await until('the group to be Healthy', (g) => g.status?.phase === 'Healthy');
show('get', 'rolloutgroups,rollouts');

step(5, "Tandem wired loan to interest: loan's active pods get interest's active address");
await sleep(2000);
show('get', 'pods', '-l', 'app=loan', '-o', "jsonpath={range .items[*]}{.metadata.name}{'  '}{.metadata.annotations.tandem\\.dev/interest-url}{'\\n'}{end}");

step(6, 'Release version 2.0 of both services (what a Git change would do)');
for (const app of ['interest', 'loan']) {
  show('patch', 'rollout', app, '--type', 'json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: `ghcr.io/acme/${app}:2.0` }]));
}
const paused = await until('the release to wait at the gate', (g) => g.status?.phase === 'Paused');
const id = paused.status!.release!.id;
console.log(`   Both previews are ready; nothing goes live until someone promotes release ${id}.`);
show('get', 'rolloutgroups', '-o', 'wide');

step(7, `Promote release ${id}`);
show('annotate', 'rolloutgroup', 'loans', `tandem.dev/promote=${id}`);
await until('the release to complete', (g) => g.status?.phase === 'Healthy' && !g.status.release);

step(8, 'The end state: both on 2.0, promoted dependents first');
show('get', 'rolloutgroups,rollouts');
show('get', 'events', '--field-selector', 'involvedObject.name=loans', '--sort-by', '.lastTimestamp', '-o', 'custom-columns=REASON:.reason,MESSAGE:.message');
console.log(`\nDone. The cluster is still up: export KUBECONFIG=${kubeconfig}; stop it with \`npm run cluster -- down\`.`);
controller.kill('SIGTERM');
