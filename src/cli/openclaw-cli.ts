import type { Config } from '../config/config.js';
import { peekToken } from '../gateway-config/token.js';
import { buildChildEnv } from '../gateway/child-env.js';
import { locateGatewayConfig } from '../gateway-config/config-location.js';
import { locateRuntime, resolveOpenclaw, withNodeFirst } from '../preflight/locate-gateway.js';
import { EXIT } from '../exit-codes.js';
import { exitCodeOf, spawnInOwnSession } from './own-session.js';
import { PAIRING_SCOPE_HINT, needsPairingScope, pairingScopeHint, teeForScopeHint } from './scope-hint.js';
import { ReleaseStore } from '../releases/release-store.js';

type Env = Readonly<Record<string, string | undefined>>;

export type { CliSubcommand } from './subcommands.js';

export interface CliInvocation {
  readonly file: string;
  readonly env: Record<string, string>;
  /** Where the token came from, for messages (never the token itself). */
  readonly tokenNote: string;
  /** The user's own config file (the gateway may read it through the supervisor's overlay). */
  readonly userConfigPath: string;
}

/**
 * The pinned openclaw CLI with what the supervisor's gateway gets: Node 24 first on PATH, the same
 * state dir, config (the overlay when there is one), include roots, token, and
 * OPENCLAW_GATEWAY_PORT = the internal port (the CLI's default, 18789, is not the supervisor's setting).
 */
export async function prepareCli(config: Config, parentEnv: Env, cwd = process.cwd()): Promise<CliInvocation> {
  const runtime = locateRuntime();
  const path = withNodeFirst(runtime.nodeBinDir, parentEnv['PATH']);
  // The release the supervisor last ran on this state (SUPERVISOR_OPENCLAW_VERSION, `update`), else the image's.
  const store = new ReleaseStore(config.stateDir);
  const lastGood = await store.lastGood();
  const file = (lastGood === null ? null : store.installed(lastGood))?.binary ?? resolveOpenclaw(runtime.openclawBinary, path, cwd);
  const location = locateGatewayConfig(config.stateDir, parentEnv['OPENCLAW_CONFIG_PATH'] ?? null);
  const token = await cliToken(config);
  const env = buildChildEnv({
    parentEnv,
    token: token.value ?? '',
    stateDir: config.stateDir,
    configPath: location.configPath,
    includeRoots: location.includeRoots,
    nodeBinDir: runtime.nodeBinDir,
  });
  // The CLI is no supervised gateway, and a terminal may have colours.
  delete env['OPENCLAW_SUPERVISOR_MODE'];
  if (parentEnv['NO_COLOR'] === undefined) delete env['NO_COLOR'];
  if (token.value === null) delete env['OPENCLAW_GATEWAY_TOKEN'];
  env['OPENCLAW_GATEWAY_PORT'] = String(config.gatewayPort);
  return { file, env, tokenNote: token.note, userConfigPath: location.userConfigPath };
}

/** The supervisor's token, read without creating anything: a CLI call must not generate one. */
async function cliToken(config: Config): Promise<{ value: string | null; note: string }> {
  const token = await peekToken(config.token, config.stateDir);
  if (token.origin === 'env') return { value: token.value, note: 'OPENCLAW_GATEWAY_TOKEN' };
  return { value: token.value, note: token.notGenerated ? `${token.path} (not generated yet: start the supervisor once)` : `${token.path}` };
}

/**
 * Runs the CLI with the terminal as its stdio (in a session of its own); resolves with its exit code
 * (128+n on a signal). For the pairing commands, stderr passes through us: when the gateway answers
 * "missing scope: operator.pairing", one line after it says what that means and what to do.
 */
export function runAttached(cli: CliInvocation, args: readonly string[]): Promise<number> {
  const watch = needsPairingScope(args);
  const child = spawnInOwnSession(cli.file, args, cli.env, watch ? ['inherit', 'inherit', 'pipe'] : 'inherit');
  const sawMissingScope = watch ? teeForScopeHint(child.stderr!, process.stderr) : Promise.resolve(false);
  return new Promise<number>((resolve) => {
    child.once('error', (error) => {
      process.stderr.write(`openclaw-supervisor: cannot run ${cli.file}: ${error.message}\n`);
      resolve(EXIT.commandNotFound);
    });
    // With stderr through us, its last words come before the hint: wait for the pipe to close too.
    child.once(watch ? 'close' : 'exit', (code: number | null, signal: NodeJS.Signals | null) => resolve(exitCodeOf(code, signal)));
  }).then(async (code) => {
    if (code !== 0 && (await sawMissingScope)) process.stderr.write(PAIRING_SCOPE_HINT);
    return code;
  });
}

/** Runs the CLI with its output captured (for `devices`), in a session of its own; stderr passes through us (the scope hint, as above). */
export function runCaptured(cli: CliInvocation, args: readonly string[]): Promise<{ code: number; stdout: string }> {
  const child = spawnInOwnSession(cli.file, args, cli.env, ['ignore', 'pipe', 'pipe']);
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const sawMissingScope = teeForScopeHint(child.stderr!, process.stderr);
  return new Promise<{ code: number; stdout: string }>((resolve) => {
    child.once('error', (error) => resolve({ code: EXIT.commandNotFound, stdout: error.message }));
    child.once('close', (code, signal) => resolve({ code: exitCodeOf(code, signal), stdout }));
  }).then(async (result) => {
    if (result.code !== 0 && (pairingScopeHint(result.stdout) !== null || (await sawMissingScope))) process.stderr.write(PAIRING_SCOPE_HINT);
    return result;
  });
}
