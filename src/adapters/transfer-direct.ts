// --direct: the target pulls the image from the source over its own SSH connection; we only
// steer (member list, disk check, verification) and read progress. The source's host key is
// still checked: the target gets the entry from OUR known_hosts, under a fixed alias.
import { createInterface } from 'node:readline';
import { ExitCode, ReleaseflowError } from '../core/errors.ts';
import { DIRECT_KEY_ALIAS, type DirectRoute, describeRoute, knownHostsForAlias, knownHostsName, parseSshG } from '../core/direct.ts';
import { describeBytes } from '../core/layers.ts';
import { stripNoise, tail } from '../core/noise.ts';
import { shJoin } from '../core/quote.ts';
import { buildDirectRelayScript } from './image-scripts.ts';
import { runProcess } from './process.ts';
import type { SshHost } from './ssh.ts';
import { addListing, finishListing, findLoaded, newListing, type RelayFailure, RelayError, type RelayOptions, type RelayResult } from './transfer-stream.ts';

/** A route with the source's host key entry, ready for the target. */
export interface ResolvedDirect {
  route: DirectRoute;
  knownHosts: string[];
}

/** Fill the route from the source host as this machine reaches it, and fetch its known_hosts entry. */
export async function resolveDirect(from: SshHost, partial: Partial<DirectRoute> = {}): Promise<ResolvedDirect> {
  if (from.config.insecureIgnoreHostKeys) {
    throw new ReleaseflowError(`--direct refused: host key checking is off for ${from.name} (insecureIgnoreHostKeys), so there is no checked key to give the target`, {
      host: from.name,
      fix: `record ${from.name}'s host key in known_hosts and remove insecureIgnoreHostKeys, or release without --direct`,
    }, ExitCode.usage);
  }
  const args = from.sshArgs().filter((a) => a !== '-T');
  const g = await runProcess('ssh', ['-G', ...args], { timeoutMs: 10_000 });
  const conf = parseSshG(g.stdout);
  const hostname = conf.get('hostname') ?? from.config.address;
  const port = Number(conf.get('port') ?? from.config.port ?? 22);
  const user = conf.get('user');
  const route: DirectRoute = {
    address: partial.address ?? hostname,
    port: partial.port ?? (port !== 22 ? port : undefined),
    user: partial.user ?? from.config.user ?? user,
    identityFile: partial.identityFile,
  };
  const name = knownHostsName(hostname, port, conf.get('hostkeyalias'));
  const files = `${conf.get('userknownhostsfile') ?? '~/.ssh/known_hosts'} ${conf.get('globalknownhostsfile') ?? ''}`.split(/\s+/).filter(Boolean);
  const home = process.env.HOME ?? '';
  const lines: string[] = [];
  for (const f of files) {
    const file = f.startsWith('~/') ? `${home}/${f.slice(2)}` : f;
    const r = await runProcess('ssh-keygen', ['-F', name, '-f', file], { timeoutMs: 10_000 }).catch(() => undefined);
    if (r?.code === 0) lines.push(...knownHostsForAlias(r.stdout));
  }
  if (lines.length === 0) {
    throw new ReleaseflowError(`--direct needs ${from.name}'s host key, but no entry for ${name} is in ${files.join(' or ')} on this machine`, {
      host: from.name,
      fix: `connect once with ssh to ${from.config.address} and check its fingerprint, or release without --direct`,
    }, ExitCode.usage);
  }
  return { route, knownHosts: [...new Set(lines)] };
}

/** The known ssh failures of the target's connection to the source, with the fix. */
export function diagnoseDirect(from: string, to: string, route: DirectRoute, stderr: string): { message: string; fix: string } {
  const r = describeRoute(route);
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key .* differs/i.test(stderr)) {
    return {
      message: `${to} reached ${r} but its host key is not the key this machine knows for ${from}: refused (a different server answers at that address from ${to}?)`,
      fix: `check that transfer.directSsh.address names ${from} as ${to} sees it; or release without --direct`,
    };
  }
  if (/Permission denied/i.test(stderr)) {
    return {
      message: `${from} refused ${to}'s key (${r}): --direct uses ${to}'s own ssh key, not yours`,
      fix: `add ${to}'s public key to ~/.ssh/authorized_keys of ${route.user ?? 'the user'} on ${from} (or set transfer.directSsh.identityFile to a key on ${to}); or release without --direct`,
    };
  }
  if (/timed out|Connection refused|No route to host|Could not resolve|Network is unreachable|Connection closed|not known/i.test(stderr)) {
    return {
      message: `${to} cannot reach ${from} at ${r}: ${tail(stderr, 1).trim()}`,
      fix: `--direct needs ${to} to reach ${from} over SSH; set transfer.directSsh.address to ${from}'s address as ${to} sees it, open the port, or release without --direct`,
    };
  }
  return { message: `ssh from ${to} to ${from} (${r}) failed: ${tail(stderr, 1).trim()}`, fix: `run on ${to}: ssh -v ${r.split(' ')[0]} true; or release without --direct` };
}

/** Read-only check before a release: can the target reach the source with its key and our host key entry? */
export async function probeDirect(from: SshHost, to: SshHost, d: ResolvedDirect): Promise<void> {
  const marker = '@@rfx-probe';
  const script = buildDirectRelayScript({ marker, token: 'probe', sudo: to.config.sudo, imageId: 'none', saveScript: `printf '%s start\\n' ${shJoin([marker])}`, knownHosts: d.knownHosts, route: d.route, connectTimeoutS: 10, probe: true });
  const r = await to.run({ script }, { timeoutMs: 30_000 });
  const src = /@@rfx-probe srcexit (\S+)/.exec(r.stdout)?.[1];
  if (r.code === 6 || src !== '0') {
    const d2 = r.code === 6 ? { message: `${to.name}: ${tail(r.stderr, 1).trim() || 'cannot run the direct transfer'}`, fix: 'install openssh-client on the target, or release without --direct' } : diagnoseDirect(from.name, to.name, d.route, r.stderr);
    // nothing has changed yet: a set-up problem, like a bad config
    throw new ReleaseflowError(`--direct: ${d2.message}`, { host: to.name, fix: d2.fix, output: tail(stripNoise(r.stderr), 10), command: `${to.name}: ssh ${describeRoute(d.route)} (as ${DIRECT_KEY_ALIAS})` }, ExitCode.usage);
  }
}

/** The relay's options, less what the target now does itself (decoding, the disk check), plus the target's own. */
export interface DirectRelayOptions extends Omit<RelayOptions, 'encoding' | 'onRawTotal'> {
  token: string;
  /** The target's docker data-root, where its relay checks free space. */
  dataRoot?: string;
  onRelayPid?: (pid: number) => void;
  connectTimeoutS: number;
  /** --relay: the target also writes the stream into this file of its own, for the next host. */
  passOn?: string;
}

/** Run the target's relay script and steer it; same failure sides as the relay through this machine. */
export async function relayDirect(from: SshHost, to: SshHost, saveScript: string, d: ResolvedDirect, o: DirectRelayOptions): Promise<RelayResult> {
  const started = Date.now();
  const script = buildDirectRelayScript({ marker: o.marker, token: o.token, sudo: to.config.sudo, imageId: o.imageId, saveScript, knownHosts: d.knownHosts, route: d.route, connectTimeoutS: o.connectTimeoutS, dataRoot: o.dataRoot, passOn: o.passOn });
  const { child, command } = to.spawnStream({ script });
  child.stdin!.on('error', () => {});
  const errParts: Buffer[] = [];
  child.stderr!.on('data', (b: Buffer) => errParts.push(b));
  const facts = new Map<string, string>();
  const loadLines: string[] = [];
  const identityLines: string[] = [];
  const listing = newListing();
  let why: RelayFailure | undefined;
  let planError: unknown;
  let bytes = 0;
  let lastMoveAt = Date.now();
  const advance = (n: number) => {
    if (!(n > bytes)) return;
    const secs = Math.max(0.001, (Date.now() - started) / 1000);
    bytes = n;
    lastMoveAt = Date.now();
    o.onProgress?.({ bytes, rateBps: bytes / secs });
  };
  let sawStart = false;
  const kill = (reason: RelayFailure) => {
    why ??= reason;
    child.kill('SIGTERM');
  };
  const onAbort = () => kill('aborted');
  if (o.signal?.aborted) onAbort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const watchdog = setInterval(() => {
    if (!sawStart && Date.now() - started > o.headerTimeoutMs) kill('stalled');
    if (sawStart && Date.now() - lastMoveAt > o.stallMs) kill('stalled');
  }, 1000);
  const exit = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  const rl = createInterface({ input: child.stdout! });
  for await (const raw of rl) {
    const line = raw.replace(/\r$/, '');
    if (!line.startsWith(`${o.marker} `)) {
      loadLines.push(line);
      continue;
    }
    const rest = line.slice(o.marker.length + 1);
    const sp = rest.indexOf(' ');
    const key = sp < 0 ? rest : rest.slice(0, sp);
    const value = sp < 0 ? '' : rest.slice(sp + 1);
    if (key === 'relaypid') o.onRelayPid?.(Number(value));
    else if (key === 'pid') o.onRemotePid?.(Number(value));
    else if (key === 'got' || key === 'cfg') identityLines.push(line);
    else if (addListing(listing, key, value)) {
      // collected for selectMembers
    } else if (key === 'manifest' && o.selectMembers) {
      try {
        child.stdin!.end(o.selectMembers(value, finishListing(listing)));
      } catch (e) {
        planError = e;
        kill('plan');
      }
    } else if (key === 'start') {
      sawStart = true;
      lastMoveAt = Date.now();
      if (!child.stdin!.writableEnded) child.stdin!.end();
    } else if (key === 'progress') advance(Number(value));
    else {
      // the final count: a stream shorter than the ticker's second still reports its bytes once
      if (key === 'wire') advance(Number(value));
      facts.set(key, value);
    }
  }
  const code = await exit;
  clearInterval(watchdog);
  o.signal?.removeEventListener('abort', onAbort);
  return directVerdict({ from, to, d, o, command, started, code, facts, bytes, errParts, loadLines, identityLines, listing, why, planError, sawStart });
}

/** What a direct relay left behind when its ssh ended: the script's facts, its output, and why we stopped it. */
interface DirectRun {
  from: SshHost;
  to: SshHost;
  d: ResolvedDirect;
  o: DirectRelayOptions;
  command: string;
  started: number;
  code: number | null;
  facts: Map<string, string>;
  bytes: number;
  errParts: Buffer[];
  loadLines: string[];
  identityLines: string[];
  listing: ReturnType<typeof newListing>;
  why?: RelayFailure;
  planError?: unknown;
  sawStart: boolean;
}

/** The result of a direct relay, or the error that names the side that failed. */
function directVerdict(r: DirectRun): RelayResult {
  const { from, to, d, o, command, started, code, facts, bytes, errParts, loadLines, identityLines, listing, why, planError, sawStart } = r;
  const wire = Number(facts.get('wire')) || bytes;
  const stderr = stripNoise(Buffer.concat(errParts).toString('utf8'));
  const loadOutput = loadLines.join('\n').trim();
  const output = [stderr, loadOutput].filter((s) => s.trim()).join('\n');
  const fail = (side: RelayFailure, message: string, host: string, exitCode: number | null, fix?: string) =>
    new RelayError(message, side, wire, exitCode, loadOutput, output, {
      host,
      command: `${to.name}: ssh ${describeRoute(d.route)} ${from.name}'s save script | docker load  (${command.length} bytes of script)`,
      output: tail(output, 20),
      fix: fix ?? (side === 'aborted' ? 'nothing to do: the transfer was interrupted and its temporary files removed' : 'check docker on both hosts (releaseflow doctor)'),
    });
  const srcExit = facts.get('srcexit');
  const dstExit = facts.get('dstexit');
  if (why === 'aborted' || o.signal?.aborted) throw fail('aborted', 'image transfer interrupted', to.name, null);
  if (why === 'plan') throw fail('plan', `cannot select the layers to send: ${planError instanceof Error ? planError.message : String(planError)}`, from.name, null);
  if (why === 'stalled') throw fail('stalled', `direct image transfer stalled: no progress for ${Math.round((sawStart ? o.stallMs : o.headerTimeoutMs) / 1000)}s`, from.name, null);
  const nospace = /^(\d+) (\d+)$/.exec(facts.get('nospace') ?? '');
  if (nospace) {
    throw new ReleaseflowError(`not enough disk space on ${to.name} for the image transfer: ${describeBytes(Number(nospace[1]))} needed for docker load staging and unpacked layers, ${describeBytes(Number(nospace[2]))} free; nothing was loaded`, {
      host: to.name,
      fix: `free disk space on ${to.name} (docker system df; docker image prune -a removes images no container uses)`,
    });
  }
  if (code === 6) throw fail('source', `${to.name} cannot run the direct transfer: ${tail(stderr, 1).trim()}`, to.name, code, 'install openssh-client on the target, or release without --direct');
  if (!sawStart) {
    // the source never started: ssh itself failed (255), or the save script did
    if (srcExit === '255') {
      const dg = diagnoseDirect(from.name, to.name, d.route, stderr);
      throw fail('connect', `--direct: ${dg.message}`, to.name, 255, dg.fix);
    }
    throw fail('source', `docker save on ${from.name} failed (exit ${srcExit ?? code})`, from.name, Number(srcExit) || code);
  }
  if (dstExit !== '0') throw fail('target', `docker load on ${to.name} failed (exit ${dstExit ?? code})`, to.name, Number(dstExit) || code, /no space left/i.test(output) ? `free disk space on ${to.name} (docker system df; docker image prune)` : undefined);
  if (srcExit !== '0') throw fail('source', `docker save on ${from.name} failed (exit ${srcExit})`, from.name, Number(srcExit));
  const found = findLoaded(identityLines, o.marker, o.expected);
  if (typeof found !== 'string') throw fail('mismatch', `after docker load, ${to.name} ${found.why}`, to.name, 0);
  return { targetId: found, layout: o.selectMembers ? listing.layout : undefined, bytes: wire, durationMs: Date.now() - started, loadOutput };
}
