import { UsageError } from '../errors.js';

export interface GatewayCommand {
  readonly file: string;
  readonly args: readonly string[];
}

/** Flags the supervisor owns: it must choose them, or the front door and the gateway disagree. */
const OWNED_FLAGS: Readonly<Record<string, string>> = {
  '--port': 'the supervisor gives the gateway its internal port (SUPERVISOR_GATEWAY_PORT)',
  '--bind': 'the gateway must stay on loopback behind the front door',
  '--auth': 'the supervisor runs the gateway with token auth',
  '--token': 'a token on a command line is visible to every process listing; the supervisor passes it as OPENCLAW_GATEWAY_TOKEN',
  '--password': 'a password on a command line is visible to every process listing; use OPENCLAW_GATEWAY_PASSWORD',
};

export function ownedFlags(gatewayPort: number): string[] {
  return ['--bind', 'loopback', '--port', String(gatewayPort), '--auth', 'token'];
}

/**
 * The gateway's argv. `defaultBinary` is the pinned openclaw; `userCommand` is whatever followed `--`
 * (e.g. `node dist/index.js gateway` in an OpenClaw checkout). The token never appears here.
 */
export function buildGatewayCommand(userCommand: readonly string[] | null, defaultBinary: string, gatewayPort: number): GatewayCommand {
  if (userCommand === null) {
    return { file: defaultBinary, args: ['gateway', 'run', '--allow-unconfigured', ...ownedFlags(gatewayPort)] };
  }
  const [file, ...args] = userCommand;
  if (file === undefined || file === '') throw new UsageError('the gateway command after -- is empty');
  for (const arg of args) {
    const name = arg.split('=')[0] ?? arg;
    // Own keys only: an argument such as `constructor` or `toString` is not an owned flag.
    const reason = Object.hasOwn(OWNED_FLAGS, name) ? OWNED_FLAGS[name] : undefined;
    if (reason !== undefined) {
      throw new UsageError(`the gateway command sets ${name}, which the supervisor owns: ${reason}. Remove it from the command after --`);
    }
  }
  return { file, args: [...args, ...ownedFlags(gatewayPort)] };
}
