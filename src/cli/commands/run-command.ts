// `releaseflow run-command HOST CONTAINER`: the docker run command that recreates a container.
import { Command } from '@commander-js/extra-typings';
import { ReleaseflowError } from '../../core/errors.ts';
import { parseImageInspect, parseInspect } from '../../core/inspect.ts';
import { renderRunCommand, toRunSpec } from '../../core/runspec.ts';
import { renderSeccompWrite, seccompProfilePath } from '../../core/seccomp.ts';
import { statePaths } from '../../core/state.ts';
import { inspectContainers, inspectImages, readDaemonContext } from '../../adapters/inspect.ts';
import { withHosts } from '../../workflows/hosts.ts';
import { act } from '../common.ts';
import type { Register } from './register.ts';

export const registerRunCommand: Register = (program, holder) => {
  const cmd = new Command('run-command')
    .description("print the shell command that recreates a container from its docker inspect (secrets masked unless --reveal)")
    .argument('<host>', 'host name from the config')
    .argument('<container>', 'container name')
    .option('--image <ref>', 'use this image instead of the current one')
    .option('--reveal', 'show secret env values')
    .action(async (hostName, container, opts, c) => {
      await act(holder, c, async (config) => {
        return await withHosts(config, [hostName], async (hosts) => {
          const h = hosts.get(hostName)!;
          await h.connect();
          const found = (await inspectContainers<{ Name: string; Image: string; Config: { Image: string } }>(h, [container])).get(container);
          if (!found) throw new ReleaseflowError(`container ${container} not found on ${hostName}`, { host: hostName, fix: `list containers with: ssh ${h.config.address} docker ps -a` }, 2);
          const [images, ctx] = await Promise.all([inspectImages(h, [found.Image]), readDaemonContext(h)]);
          const img = images.get(found.Image);
          const { spec, warnings } = toRunSpec(parseInspect(found), parseImageInspect(img ?? { Id: found.Image }), { image: opts.image, daemon: ctx.daemon, names: ctx.names });
          for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
          // an inline seccomp profile: first the lines that write it to a file on the host, which the command names
          const seccompFile = spec.seccompProfile !== undefined ? seccompProfilePath(`${statePaths(h.config.stateDir, config.app).root}/seccomp`, container) : undefined;
          if (seccompFile) process.stdout.write(`${renderSeccompWrite(seccompFile, spec.seccompProfile!)}\n`);
          process.stdout.write(`${renderRunCommand(spec, { name: container, image: opts.image ?? found.Config.Image, secrets: config.secrets, reveal: Boolean(opts.reveal), apiVersion: ctx.apiVersion, seccompFile })}\n`);
          return 0;
        });
      });
    });
  program.addCommand(cmd as unknown as Command);
};
