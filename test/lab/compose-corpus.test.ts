// Compose corpus on the lab: projects shaped like real ones, each released and rolled back on PROD
// with compose v1 1.29 and v2 2.26 (where its file is valid). After each: released services on the
// expected image, every other container untouched, volume data kept, the operator's plain up -d
// recreates nothing, every service running.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { APP_IMAGES, CORPUS, type CorpusProject, DB_IMAGES } from './compose-corpus-projects.ts';
import { composeV1Skip, labDocker, labInfo, labInspect, labScript, labSkip, releaseflow } from './lab.ts';

const ROOT = '/opt/corpus';
const cliOf = (v: '1' | '2') => (v === '2' ? 'docker compose' : 'docker-compose');
const onProd = (script: string) => labScript(['ssh', 'prod', script]);
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Build a stand-in: a label on top of one of the lab's images (no layer of its own, so it is quick). */
function standIn(host: string, ref: string, from: string): void {
  try {
    labDocker(host, ['image', 'inspect', ref]);
    return;
  } catch {
    /* not built yet */
  }
  process.env.DOCKER_BUILDKIT = '0';
  labDocker(host, ['build', '-q', '-t', ref, '-'], `FROM ${from}\nLABEL corpus.image="${ref}"\n`);
}

interface Box {
  id: string;
  name: string;
  service: string;
  image: string;
  running: boolean;
  exitCode: number;
}

/** The project's containers on PROD, by service (one-off run containers aside). */
function containers(project: string): Map<string, Box> {
  const ids = labDocker('prod', ['ps', '-aq', '--no-trunc', '--filter', `label=com.docker.compose.project=${project}`, '--filter', 'label=com.docker.compose.oneoff=False']).trim().split('\n').filter(Boolean);
  const out = new Map<string, Box>();
  for (const id of ids) {
    const x = labInspect('prod', id);
    const service = x.Config.Labels['com.docker.compose.service'];
    out.set(service, { id: x.Id, name: x.Name.replace(/^\//, ''), service, image: x.Image, running: x.State.Running, exitCode: x.State.ExitCode });
  }
  return out;
}

/** Poll until every service but the one-shots runs (and the one-shots exited 0). */
async function settled(p: CorpusProject, want: number): Promise<Map<string, Box>> {
  const until = Date.now() + 60_000;
  for (;;) {
    const c = containers(p.name);
    const ok = c.size >= want && [...c.values()].every((b) => (p.oneshot?.includes(b.service) ? !b.running && b.exitCode === 0 : b.running));
    if (ok) return c;
    if (Date.now() > until) assert.fail(`${p.name}: not settled: ${JSON.stringify([...c.values()])}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

function writeProject(p: CorpusProject): void {
  const dir = `${ROOT}/${p.name}`;
  const lines = [`rm -rf ${dir}`, `mkdir -p ${dir}`];
  for (const [f, text] of Object.entries(p.files)) lines.push(`mkdir -p "$(dirname ${q(`${dir}/${f}`)})" && printf '%s' ${q(Buffer.from(text).toString('base64'))} | base64 -d > ${q(`${dir}/${f}`)}`);
  onProd(lines.join('\n'));
}

function configFor(p: CorpusProject, v: '1' | '2', names: string[]): string {
  const lab = readFileSync(labInfo()!.config, 'utf8');
  const hosts = lab.slice(lab.indexOf('hosts:'), lab.indexOf('\nfrom:'));
  const file = join(mkdtempSync(join(tmpdir(), 'rf-corpus-')), 'releaseflow.yml');
  writeFileSync(file, `app: corpus-${p.name}-v${v}\n${hosts}\nfrom: test\nto: prod\ncontainers:\n${names.map((n) => `  - ${n}`).join('\n')}\nhealth:\n  timeout: 60s\n  interval: 200ms\nlog:\n  file: ${labInfo()!.dir}/corpus.log\n`);
  return file;
}

/** Remove the project's containers (every profile), volumes and files: by label, so no compose file is needed. */
function clean(p: CorpusProject): void {
  const f = `label=com.docker.compose.project=${p.name}`;
  onProd(`ids=$(docker ps -aq --filter ${f}); [ -z "$ids" ] || docker rm -f $ids >/dev/null; vols=$(docker volume ls -q --filter ${f}); [ -z "$vols" ] || docker volume rm $vols >/dev/null; rm -rf ${ROOT}/${p.name}`);
}

const fileHash = (p: CorpusProject) => onProd(`cd ${ROOT}/${p.name} && find . -type f | sort | xargs sha256sum`);

/** The checks after a release or a rollback. */
async function check(p: CorpusProject, v: '1' | '2', label: string, start: Map<string, Box>, expect: Map<string, string>, out: string, plainUps: string[][]): Promise<void> {
  const now = await settled(p, start.size);
  for (const [svc, b] of start) {
    const n = now.get(svc);
    assert.ok(n, `${label}: ${svc} still there`);
    if (expect.has(svc)) assert.equal(n.image, expect.get(svc), `${label}: ${svc} runs the expected image`);
    else assert.equal(n.id, b.id, `${label}: ${svc} untouched (same container)`);
  }
  for (const [svc, path] of Object.entries(p.data ?? {})) {
    assert.equal(labDocker('prod', ['exec', now.get(svc)!.name, 'cat', `${path}/corpus-marker`]).trim(), `corpus ${p.name}`, `${label}: ${svc} volume data kept`);
  }
  for (const args of plainUps) {
    onProd(`cd ${ROOT}/${p.name} && ${cliOf(v)} ${args.join(' ')} up -d 2>&1`);
    const again = await settled(p, start.size);
    for (const [svc, b] of now) assert.equal(again.get(svc)?.id, b.id, `${label}: plain ${cliOf(v)} ${args.join(' ')} up -d recreated ${svc}`);
  }
  assert.doesNotMatch(out, /\*{8}[-_]|[-_/.]\*{8}/, `${label}: no mask inside a name`);
}

describe('compose corpus on the lab', labSkip(), () => {
  before(() => {
    labScript(['compose-v2']);
    // another compose v2 for both hosts (e.g. sid's 2.40 from an engine tree): CORPUS_COMPOSE_PLUGIN=/path/to/docker-compose
    const plugin = process.env.CORPUS_COMPOSE_PLUGIN;
    for (const h of plugin ? ['test', 'prod'] : []) {
      const dst = join(labInfo()!.dir, 'hosts', h, 'root/.docker/cli-plugins/docker-compose');
      rmSync(dst, { force: true }); // it may be a hard link to the cache: never write through it
      copyFileSync(plugin!, dst);
    }
    for (const ref of APP_IMAGES) standIn('prod', ref, 'ragflowauth-backend:v1');
    for (const ref of DB_IMAGES) standIn('prod', ref, 'ragflowauth-frontend:v1');
    for (const p of CORPUS) for (const ref of Object.values(p.released)) standIn('test', ref, 'ragflowauth-backend:v2');
  });

  // the lab is shared with the files that run after this one: leave no project, stand-in tag or layer behind
  after(() => {
    for (const p of CORPUS) clean(p);
    for (const h of ['test', 'prod']) {
      const tags = labDocker(h, ['images', '--format', '{{.Repository}}:{{.Tag}}']).trim().split('\n');
      const drop = tags.filter((t) => t && !t.startsWith('ragflowauth-') && t !== '<none>:<none>');
      for (const t of drop) {
        try {
          labDocker(h, ['rmi', t]);
        } catch {
          // still used by a container: left, and the next test's seed decides
        }
      }
      labDocker(h, ['image', 'prune', '-f']);
    }
  });

  for (const p of CORPUS) {
    for (const v of p.versions) {
      test(`${p.name} on compose v${v}: ${p.refused ? 'release refused before any container changes' : 'release, plain up -d, rollback'}`, { skip: v === '1' ? composeV1Skip() : false }, async (t) => {
        const dir = `${ROOT}/${p.name}`;
        const cli = cliOf(v);
        clean(p);
        writeProject(p);
        onProd(`cd ${dir} && ${cli} ${(p.firstUp ?? []).join(' ')} up -d 2>&1`);
        const want = Object.keys(p.files).length ? containers(p.name).size : 0;
        let start = await settled(p, want);
        for (const [svc, path] of Object.entries(p.data ?? {})) labDocker('prod', ['exec', start.get(svc)!.name, 'sh', '-c', `echo 'corpus ${p.name}' > ${path}/corpus-marker`]);
        start = await settled(p, want);
        const released = Object.keys(p.released).map((s) => start.get(s)!);
        for (const b of released) {
          try {
            labDocker('test', ['rm', '-f', b.name]);
          } catch {
            /* none */
          }
          labDocker('test', ['run', '-d', '--name', b.name, p.released[b.service]!]);
        }
        const testIds = new Map(released.map((b) => [b.service, labInspect('test', b.name).Image as string]));
        const cfg = configFor(p, v, released.map((b) => b.name));
        const filesBefore = fileHash(p);
        const r = releaseflow(['promote', '--yes'], { env: { RELEASEFLOW_CONFIG: cfg } });
        if (p.refused) {
          assert.equal(r.code, 1, r.out);
          assert.match(r.out, p.refused);
          assert.equal(fileHash(p), filesBefore, 'the project files are as they were');
          await check(p, v, 'refused', start, new Map(), r.out, p.plainUps ?? [p.firstUp ?? []]);
          return;
        }
        assert.equal(r.code, 0, r.out);
        // after the release the pin is part of what a plain up -d loads (COMPOSE_FILE replaces the operator's -f)
        await check(p, v, 'release', start, testIds, r.out, p.plainUps ?? [[]]);
        const rb = releaseflow(['rollback', '--yes'], { env: { RELEASEFLOW_CONFIG: cfg } });
        assert.equal(rb.code, 0, rb.out);
        // after the rollback the operator is back to their own command (their -f files, if any)
        await check(p, v, 'rollback', start, new Map(released.map((b) => [b.service, b.image])), rb.out, p.plainUps ?? [p.firstUp ?? []]);
        if (p.oneshot) t.diagnostic(`${p.name} v${v}: ${p.oneshot.join(', ')} ran ${onProd(`docker run --rm -v ${p.name}_files:/d ${DB_IMAGES[0]} cat /d/migrations.log 2>/dev/null | wc -l`).trim()} time(s) in all (first up, release, plain ups, rollback)`);
        assert.equal(fileHash(p), filesBefore, 'rollback: the project files are as they were');
        clean(p);
        for (const b of released) labDocker('test', ['rm', '-f', b.name]);
      });
    }
  }
});
