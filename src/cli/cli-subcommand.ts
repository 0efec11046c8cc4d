import { resolveConfig } from '../config/resolve-config.js';
import { UsageError } from '../errors.js';
import { runDevices } from './devices.js';
import { LOOPBACK_IPV4 } from '../host/loopback.js';
import { AuthWatch } from '../gateway/auth-check.js';
import type { Logger } from '../log/logger.js';
import type { CliInvocation, CliSubcommand } from './openclaw-cli.js';
import { prepareCli, runAttached } from './openclaw-cli.js';
import { publicUrls } from '../host/public-urls.js';
import { selfCommand } from '../host/self-command.js';

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
    throw new UsageError(`--${invocation.command} goes after ${sub.name} (e.g. openclaw-supervisor ${sub.name} --${invocation.command}), or alone`);
  }
  const { config } = invocation;
  if (sub.name === 'update') return (await import('./update.js')).runUpdate(config, sub.args);
  const cli = await prepareCli(config, env);
  if (sub.name === 'devices') return runDevices(cli, sub.args);
  if (sub.args[0] === 'dashboard') {
    const urls = publicUrls(config.host, config.publicPort, env);
    const token = await tokenInEffect(config.gatewayPort, cli);
    process.stdout.write(
      [
        `Control UI, through the supervisor's front door (the gateway's own ${LOOPBACK_IPV4}:${config.gatewayPort} URL bypasses it and is not reachable from elsewhere):`,
        ...urls.map((url) => `  ${url}`),
        `Token: ${token} (paste it into the Control UI; never put it in a URL you share).`,
        `A browser on another machine must then be approved once: ${selfCommand()} devices (lists it), ${selfCommand()} devices approve <request id>.`,
        '',
      ].join('\n'),
    );
    return 0;
  }
  return runAttached(cli, sub.args);
}

/** Where the token the gateway enforces is, checked like the supervisor checks it (never the token). */
async function tokenInEffect(gatewayPort: number, cli: CliInvocation): Promise<string> {
  const token = cli.env['OPENCLAW_GATEWAY_TOKEN'];
  if (token === undefined) return `none yet: ${cli.tokenNote}`;
  const location = { configPath: cli.env['OPENCLAW_CONFIG_PATH'] ?? '', userConfigPath: cli.userConfigPath };
  const quiet = { warn: () => undefined, info: () => undefined } as unknown as Logger;
  const watch = new AuthWatch({ logger: quiet, gatewayPort, token, tokenWhere: `in ${cli.tokenNote}`, ...location, selfCommand: selfCommand() });
  const { tokenInEffect: where, result } = await watch.check('ready');
  return result === 'rejected' ? `${where} (the supervisor's token in ${cli.tokenNote} is not accepted; see gateway.token_overridden in its log)` : where;
}
