import { resolveExecutable } from '../host/executables.js';
import { isSupervisorWrapper } from '../preflight/locate-gateway.js';
import { selfCommand } from '../host/self-command.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The openclaw command that prints the gateway's token (it needs a terminal: it refuses a pipe). */
const SHOW_TOKEN = 'gateway auth-token --show';

export interface TokenCommandFacts {
  /** `openclaw` on PATH is the image's wrapper (Dockerfile), which aims the CLI at this supervisor. */
  readonly openclawIsWrapper: boolean;
  /** Started by `npm start` in this project (npm's npm_lifecycle_event and npm_package_name). */
  readonly npmStart: boolean;
  /** How to run this supervisor's CLI next to it (self-command.ts), with the flags that choose the gateway. */
  readonly selfCommand: string;
  /** Those flags were given (a state dir, a port): only the self command repeats them. */
  readonly targetFlags: boolean;
}

/**
 * The exact command that prints the token in effect, for the ready line: the CLI resolves it as the
 * gateway does (gateway.auth.token, then OPENCLAW_GATEWAY_TOKEN, the supervisor's), so it is right
 * even when the config overrides the supervisor's token. The shortest form that works where the
 * person is: the image's `openclaw`, `npm run openclaw --` next to `npm start`, else the self command.
 */
export function tokenCommand(facts: TokenCommandFacts): string {
  if (!facts.targetFlags && facts.openclawIsWrapper) return `openclaw ${SHOW_TOKEN}`;
  if (!facts.targetFlags && facts.npmStart) return `npm run openclaw -- ${SHOW_TOKEN}`;
  return `${facts.selfCommand} openclaw ${SHOW_TOKEN}`;
}

/** The facts of this process. */
export function tokenCommandHere(env: Env = process.env, argv: readonly string[] = process.argv): string {
  const found = resolveExecutable('openclaw', env['PATH'] ?? '', process.cwd()).found;
  const own = selfCommand(argv);
  return tokenCommand({
    openclawIsWrapper: found !== null && isSupervisorWrapper(found),
    npmStart: env['npm_lifecycle_event'] === 'start' && env['npm_package_name'] === 'openclaw-supervisor',
    selfCommand: own,
    targetFlags: own !== selfCommand(argv.slice(0, 2)),
  });
}
