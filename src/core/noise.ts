// Known noise in remote output: removed from what is parsed and shown, kept in the raw log record.

const NOISE: RegExp[] = [
  /^close - IO is still pending on closed socket\.?.*$/, // Windows OpenSSH on exit
  /^Warning: Permanently added .* to the list of known hosts\.?$/,
  /^WARNING: Error loading config file: .*$/,
  // ssh's mux client found the shared connection gone and connected on its own: the command still ran
  /^Control socket connect\(.*\): (Connection refused|No such file or directory)$/,
];

/** Remove known noise lines; `banner` lines (MOTD text printed on every command) go too. */
export function stripNoise(text: string, banner: readonly string[] = []): string {
  const lines = text.split('\n');
  const kept = lines.filter((l) => {
    const line = l.replace(/\r$/, '');
    if (NOISE.some((re) => re.test(line))) return false;
    return !banner.includes(line);
  });
  return kept.join('\n');
}

/** The last `n` lines of text, for error messages. */
export function tail(text: string, n = 20): string {
  const lines = text.replace(/\n+$/, '').split('\n');
  return lines.slice(-n).join('\n');
}
