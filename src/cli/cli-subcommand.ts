import { resolveConfig } from '../config/resolve-config.js';
import { runDevices } from './devices.js';
import type { CliSubcommand } from './openclaw-cli.js';
import { prepareCli, runAttached } from './openclaw-cli.js';
import { publicUrls } from './public-urls.js';
import { selfCommand } from './self-command.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * `openclaw-supervisor openclaw <args…>`: the pinned openclaw CLI, aimed at this supervisor's
 * gateway; its exit code is ours. `openclaw dashboard` would print the gateway's internal loopback
 * URL (which bypasses the front door): the front door's URLs are printed instead.
 * `openclaw-supervisor devices …`: see runDevices.
 */
export async function runCliSubcommand(sub: CliSubcommand, env: Env): Promise<number> {
  const invocation = resolveConfig(env, sub.ownArgs);
  if (invocation.command !== 'run') {
    throw new Error(`unexpected ${invocation.command} before ${sub.name}`);
  }
  const { config } = invocation;
  const cli = await prepareCli(config, env);
  if (sub.name === 'devices') return runDevices(cli, sub.args);
  if (sub.args[0] === 'dashboard') {
    const urls = publicUrls(config.host, config.publicPort, env);
    process.stdout.write(
      [
        'Control UI, through the supervisor\'s front door (the gateway\'s own 127.0.0.1:' + config.gatewayPort + ' URL bypasses it and is not reachable from elsewhere):',
        ...urls.map((url) => `  ${url}`),
        `Token: paste the one in ${cli.tokenNote} into the Control UI (never put it in a URL you share).`,
        `A browser on another machine must then be approved once: ${selfCommand()} devices (lists it), ${selfCommand()} devices approve <request id>.`,
        '',
      ].join('\n'),
    );
    return 0;
  }
  return runAttached(cli, sub.args);
}
