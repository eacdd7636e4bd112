// `releaseflow export-compose HOST [CONTAINER...] [--write [PATH]] [--force] [--reveal] [--swarm]`: docker-run containers as a compose file (or a stack file).
import { Command, Option } from '@commander-js/extra-typings';
import { exportCompose, writeComposeFile } from '../../workflows/compose-export.ts';
import { withHosts } from '../../workflows/hosts.ts';
import { ExitCode, ReleaseflowError } from '../../core/errors.ts';
import { act } from '../common.ts';
import type { Register } from './register.ts';

export const registerExportCompose: Register = (program, holder) => {
  const cmd = new Command('export-compose')
    .description('print a compose file equivalent to running docker-run containers (default: the configured ones); --write puts it on the host')
    .argument('<host>', 'host name from the config')
    .argument('[containers...]', 'container names (default: containers: in the config)')
    .option('--write [path]', 'write the file on the host (default /opt/<app>/docker-compose.yml, with --swarm docker-stack.yml), over SSH stdin')
    .option('--force', 'with --write: replace an existing file')
    .option('--reveal', 'print secret env values (--write always writes them, with mode 0600)')
    .option('--swarm', 'a stack file for docker stack deploy (format 3.8: deploy.* keys instead of restart, mem_limit, container_name)')
    .addOption(new Option('--format <format>', 'compose file format: v2 (Compose Specification) or v1 (2.4, docker-compose 1.x); default: what the host has').choices(['v1', 'v2'] as const))
    .action(async (hostName, names, opts, c) => {
      await act(holder, c, async (config) => {
        if (opts.swarm && opts.format === 'v1') throw new ReleaseflowError('--swarm writes a stack file (format 3.8); --format v1 is for docker-compose 1.x', { fix: 'drop --format v1, or drop --swarm' }, ExitCode.usage);
        return await withHosts(config, [hostName], async (hosts) => {
          const h = hosts.get(hostName)!;
          const containers = names.length ? names : config.containers.map((x) => x.name);
          const write = opts.write === undefined ? undefined : opts.write === true ? `/opt/${config.app}/${opts.swarm ? 'docker-stack.yml' : 'docker-compose.yml'}` : opts.write;
          const r = await exportCompose(h, containers, { app: config.app, secrets: config.secrets, reveal: Boolean(opts.reveal) || write !== undefined, format: opts.format, stack: Boolean(opts.swarm) });
          for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
          if (write === undefined) {
            const shown = opts.reveal || !r.hasSecrets ? r.text : (await exportCompose(h, containers, { app: config.app, secrets: config.secrets, reveal: false, format: r.format, stack: Boolean(opts.swarm) })).text;
            process.stdout.write(shown);
            return 0;
          }
          await writeComposeFile(h, write, r.text, { force: Boolean(opts.force), secret: r.hasSecrets });
          const dir = write.replace(/\/[^/]+$/, '') || '/';
          if (opts.swarm) {
            process.stderr.write(`wrote ${write} on ${hostName} (stack file, format 3.8${r.hasSecrets ? ', mode 0600: it holds secret values' : ''}).\nTo deploy it (docs/swarm.md): on a swarm manager whose nodes hold the images: docker stack deploy -c ${write} --resolve-image never ${config.app}\n`);
            return 0;
          }
          process.stderr.write(
            `wrote ${write} on ${hostName} (${r.format === 'v1' ? 'file format 2.4' : 'Compose Specification'}${r.hasSecrets ? ', mode 0600: it holds secret values' : ''}).\n` +
              `To let compose run the containers (docs/compose.md): stop and rename the docker-run ones, then in ${dir}: docker compose up -d\n`,
          );
          return 0;
        });
      });
    });
  program.addCommand(cmd as unknown as Command);
};
