// bench/fleet: the time to bring a release's images to 1 and to 3 PROD hosts (a rollout moves them to
// every host at once, before any swap). Two networks: the operator's link capped at --mbit (through
// this machine, or --direct: each PROD pulls from TEST over its own SSH, off that link), and every
// host's own link capped at --mbit (a datacenter: --direct, and --relay --direct where each PROD takes
// the stream from the one before it while that one loads it). --relay alone: one docker save on TEST
// whose stream every host reads, through this machine. On a bench lab of TEST and three PRODs;
// TEST's backend v2 gets a layer of --mb MB of random data, so that the bytes that must move dominate.
// Run: node --import tsx bench/fleet.ts [--mbit 100] [--mb 40] [--reps 2]
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

process.env.LAB_DIR ??= '/tmp/rfl-fbench';
process.env.LAB_PREFIX ??= 'rfb';
process.env.LAB_NET ??= '10.213.59';
process.env.LAB_HOSTS ??= 'test prod prod2 prod3';
const { capHosts, capLink, labDown, labSh, labUp, log, machine, mdTable, median, REPO, shell, txBytes, uncapHosts, uncapLink } = await import('./lib.ts');

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? String(args[i + 1]) : dflt;
};
const MBIT = Number(opt('mbit', '100'));
const MB = Number(opt('mb', '40'));
const REPS = Number(opt('reps', '2'));

type Way = 'through' | 'direct' | 'relay' | 'relay-direct';

interface Ev {
  type: string;
  name?: string;
  at: string;
}

/** One promote with --json; the seconds from the first transfer's start to the last one's end, and in all. */
function promote(config: string, to: string, how: Way): { transferS: number; totalS: number } {
  const flags = { through: [], direct: ['--direct'], relay: ['--relay'], 'relay-direct': ['--relay', '--direct'] }[how];
  const argv = [join(REPO, 'bin/releaseflow.js'), 'promote', '--yes', '--json', '--to', to, ...flags];
  const t0 = Date.now();
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8', env: { ...process.env, RELEASEFLOW_CONFIG: config }, maxBuffer: 256 << 20 });
  const totalS = (Date.now() - t0) / 1000;
  const out = JSON.parse(r.stdout) as { exitCode: number; events: Ev[] };
  if (out.exitCode !== 0) throw new Error(`promote --to ${to} exited ${out.exitCode}:\n${r.stdout.slice(-3000)}\n${r.stderr}`);
  const at = (e: Ev) => Date.parse(e.at);
  const starts = out.events.filter((e) => e.type === 'step-started' && e.name?.startsWith('transfer ')).map(at);
  const ends = out.events.filter((e) => e.type === 'step-succeeded' && e.name?.startsWith('transfer ')).map(at);
  return { transferS: (Math.max(...ends) - Math.min(...starts)) / 1000, totalS };
}

const lab = labUp('demo-up');
try {
  // TEST's backend v2 with a layer of random data: what every PROD lacks
  const dockerfile = `FROM ragflowauth-backend:v2\nRUN head -c ${MB * 1000 * 1000} /dev/urandom > /big.bin\n`;
  shell(`printf ${JSON.stringify(dockerfile)} | DOCKER_BUILDKIT=0 /usr/bin/docker -H unix://${lab.hosts.test!.dockerSock} build -q -t ragflowauth-backend:v2 - >/dev/null`);
  // PROD's own key on TEST and on the other PRODs, for --direct and --relay (the operator's job, once)
  const ssh = `ssh -F ${lab.sshConfig}`;
  const PRODS = ['prod', 'prod2', 'prod3'];
  const pubs = PRODS.map((h) => shell(`${ssh} ${h} '[ -f /root/.ssh/id_ed25519 ] || ssh-keygen -q -t ed25519 -N "" -C bench-fleet -f /root/.ssh/id_ed25519; cat /root/.ssh/id_ed25519.pub'`).out.trim());
  for (const h of ['test', ...PRODS]) shell(`printf '%s\\n' ${pubs.map((k) => `'${k}'`).join(' ')} | ${ssh} ${h} 'cat >>/root/.ssh/authorized_keys'`);
  const rows: (string | number)[][] = [];
  const runs: { net: 'operator' | 'hosts'; how: Way; to: string }[] = [
    { net: 'operator', how: 'through', to: 'prod' },
    { net: 'operator', how: 'through', to: 'prod,prod2,prod3' },
    { net: 'operator', how: 'relay', to: 'prod,prod2,prod3' },
    { net: 'operator', how: 'direct', to: 'prod' },
    { net: 'operator', how: 'direct', to: 'prod,prod2,prod3' },
    { net: 'hosts', how: 'direct', to: 'prod' },
    { net: 'hosts', how: 'direct', to: 'prod,prod2,prod3' },
    { net: 'hosts', how: 'relay-direct', to: 'prod,prod2,prod3' },
  ];
  const ALL = ['test', ...PRODS];
  for (const run of runs) {
    const t: number[] = [];
    const all: number[] = [];
    const sent: number[] = [];
    for (let i = 0; i < REPS; i++) {
      labSh(['seed']);
      if (run.net === 'operator') capLink(lab, MBIT);
      else capHosts(lab, MBIT, ALL);
      try {
        const tx0 = txBytes(lab, 'test');
        const r = promote(lab.config, run.to, run.how);
        sent.push((txBytes(lab, 'test') - tx0) / 1e6);
        t.push(r.transferS);
        all.push(r.totalS);
      } finally {
        uncapLink(lab);
        uncapHosts(lab, ALL);
      }
      log(`${run.net} capped, ${run.how} to ${run.to}: transfers ${t.at(-1)!.toFixed(1)} s, release ${all.at(-1)!.toFixed(1)} s, TEST sent ${sent.at(-1)!.toFixed(1)} MB`);
    }
    const net = run.net === 'operator' ? "this machine's link" : "every host's link";
    const how = { through: 'through this machine', direct: '--direct (each PROD pulls from TEST)', relay: '--relay (through this machine, one docker save on TEST)', 'relay-direct': '--relay --direct (each PROD from the one before it)' }[run.how];
    rows.push([net, how, run.to.split(',').length, median(t).toFixed(1), median(all).toFixed(1), median(sent).toFixed(1)]);
  }
  const table = mdTable(['capped at ' + MBIT + ' Mbit/s', 'images move', 'hosts', 'transfers (s)', 'whole release (s)', 'TEST sent (MB)'], rows);
  const text = `# bench/fleet, ${new Date().toISOString()}\n\n${machine()}; backend v2 = v1 + ${MB} MB of random data; median of ${REPS}\n\n${table}\n`;
  mkdirSync(join(REPO, 'bench/results'), { recursive: true });
  writeFileSync(join(REPO, 'bench/results', `fleet-${Date.now()}.md`), text);
  process.stdout.write(text);
} finally {
  labDown();
}
