import { SETTINGS } from '../config/settings.js';

/** Flags that decide which gateway the CLI talks to: they must be repeated in a printed command. */
const TARGET_FLAGS = new Set([SETTINGS.stateDir.flag, SETTINGS.gatewayPort.flag, SETTINGS.tokenFile.flag].map((flag) => `--${flag}`));

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/**
 * How to run this supervisor's CLI from a shell next to it (`docker exec`, `railway ssh`, a second
 * terminal): `node <this cli.js>` plus the flags given to this process that choose the gateway.
 * The environment (OPENCLAW_STATE_DIR, SUPERVISOR_GATEWAY_PORT, …) is the container's own.
 */
export function selfCommand(argv: readonly string[] = process.argv): string {
  const [, script = 'dist/cli.js', ...rest] = argv;
  const kept: string[] = [];
  for (let index = 0; index < rest.length; index++) {
    const arg = rest[index] ?? '';
    if (arg === '--') break;
    const name = arg.split('=')[0] ?? arg;
    if (!TARGET_FLAGS.has(name)) continue;
    if (arg.includes('=')) kept.push(arg);
    else if (rest[index + 1] !== undefined) kept.push(arg, rest[++index] ?? '');
  }
  return ['node', script, ...kept].map(quote).join(' ');
}
