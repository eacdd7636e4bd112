// What OpenSSH's own stderr says when a connection fails, turned into a message and a fix.
import type { HostConfig } from '../core/config.ts';
import { tail } from '../core/noise.ts';

/** OpenSSH's own lines about a host key, from its stderr (the big warning box without its decoration). */
export function hostKeyLines(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => /HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed|Offending .* key in|No .* host key is known for|host key for .* differs|Host key verification failed|fingerprint for the .* key sent by the remote host is|^SHA256:|Add correct host key in|Matching host key in/i.test(l))
    .join('\n');
}

/** The known_hosts file and line OpenSSH names in "Offending ... key in FILE:LINE". */
function offending(stderr: string): { file: string; line: string } | undefined {
  const m = /Offending \S+ key in (\S+):(\d+)/.exec(stderr);
  return m ? { file: m[1]!, line: m[2]! } : undefined;
}

/** Lines from ssh's own stderr that mean the connection itself failed, with the fix. */
export function diagnoseSsh(host: HostConfig, stderr: string): { message: string; fix: string } {
  const where = `${host.name} (${host.user ? `${host.user}@` : ''}${host.address}${host.port ? `:${host.port}` : ''})`;
  const target = host.port ? `[${host.address}]:${host.port}` : host.address;
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(stderr)) {
    const off = offending(stderr);
    const file = off?.file ?? host.sshOptions?.UserKnownHostsFile ?? '~/.ssh/known_hosts';
    return {
      message: `the host key of ${where} has CHANGED since it was recorded${off ? ` (${off.file} line ${off.line})` : ''}: OpenSSH refused to connect, nothing was run. Someone may be impersonating the server, or it was reinstalled. OpenSSH said:\n${hostKeyLines(stderr)}`,
      fix: `do not release until you know why. If the server really was reinstalled, get its new key fingerprint from its console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and compare it with the one above, then: ssh-keygen -R ${target} -f ${file} and connect once with ssh to record the new key`,
    };
  }
  if (/Host key verification failed|No .* host key is known for/i.test(stderr)) {
    return {
      message: `the host key of ${where} is not in known_hosts: OpenSSH refused to connect (strict host key checking). OpenSSH said:\n${hostKeyLines(stderr) || 'Host key verification failed.'}`,
      fix: `record the server's key after checking its fingerprint out of band: ssh-keyscan ${host.port ? `-p ${host.port} ` : ''}${host.address} >> ${host.sshOptions?.UserKnownHostsFile ?? '~/.ssh/known_hosts'} (compare with ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the server)`,
    };
  }
  if (/Permission denied/i.test(stderr)) {
    return { message: `${where} refused our key (Permission denied)`, fix: `check identityFile/user in the config, and that the key is in ~/.ssh/authorized_keys on ${host.address}` };
  }
  if (/Timeout, server .* not responding|closed by remote host|Broken pipe|Connection reset|client_loop/i.test(stderr)) {
    return { message: `the connection to ${where} was lost: ${tail(stderr, 1).trim()}`, fix: `check the network to ${host.address}; then run releaseflow status, which shows an interrupted release, and releaseflow recover` };
  }
  if (/timed out|Connection refused|No route to host|Could not resolve|Network is unreachable|Connection closed/i.test(stderr)) {
    return { message: `${where} is unreachable: ${tail(stderr, 1).trim()}`, fix: `check that ${host.address} is up and sshd listens on port ${host.port ?? 22} (try: ssh -v ${host.address})` };
  }
  return { message: `ssh to ${where} failed: ${tail(stderr, 1).trim()}`, fix: `run: ssh -v ${host.address} true, to see why` };
}
