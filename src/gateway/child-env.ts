import { withNodeFirst } from '../preflight/locate-gateway.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Inherited, these make the gateway believe systemd supervises it (GATEWAY-FACTS). */
const SYSTEMD_MARKERS = ['INVOCATION_ID', 'JOURNAL_STREAM', 'SYSTEMD_EXEC_PID', 'OPENCLAW_SYSTEMD_UNIT'];

/**
 * Only what the gateway needs: host `exec` commands inherit its environment, so supervisor-only
 * settings and the token file path stay out.
 */
function isSupervisorOnly(name: string): boolean {
  return name.startsWith('SUPERVISOR_') || name === 'OPENCLAW_GATEWAY_TOKEN_FILE' || SYSTEMD_MARKERS.includes(name);
}

export interface ChildEnvInput {
  readonly parentEnv: Env;
  readonly token: string;
  readonly stateDir: string;
  readonly configPath: string;
  /** Directories the gateway may `$include` config from (our overlay includes the user's file). */
  readonly includeRoots: readonly string[];
  /** Directory put first on PATH, so that `node` is the Node 24 the gateway needs. */
  readonly nodeBinDir: string | null;
  /** NODE_OPTIONS for the gateway when the supervisor sized its heap (src/gateway/heap-size.ts); null: as inherited. */
  readonly nodeOptions?: string | null;
}

export function buildChildEnv({ parentEnv, token, stateDir, configPath, includeRoots, nodeBinDir, nodeOptions = null }: ChildEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  // What the PID 1 hand-over set for the supervisor's own allocator (src/host/pid1.ts) is not the gateway's.
  const preloaded = new Set((parentEnv['SUPERVISOR_PRELOADED'] ?? '').split(',').filter(Boolean));
  for (const [name, value] of Object.entries(parentEnv)) {
    if (value !== undefined && !isSupervisorOnly(name) && !preloaded.has(name)) env[name] = value;
  }
  if (nodeBinDir !== null) env['PATH'] = withNodeFirst(nodeBinDir, env['PATH']);
  if (nodeOptions !== null) env['NODE_OPTIONS'] = nodeOptions;
  return {
    ...env,
    OPENCLAW_GATEWAY_TOKEN: token,
    OPENCLAW_STATE_DIR: stateDir,
    OPENCLAW_CONFIG_PATH: configPath,
    ...(includeRoots.length > 0 ? { OPENCLAW_INCLUDE_ROOTS: [env['OPENCLAW_INCLUDE_ROOTS'], ...includeRoots].filter(Boolean).join(':') } : {}),
    // external: a restart request (SIGUSR2, Control UI update, restart-class config change) makes it
    // exit 0 for us to respawn. OPENCLAW_NO_RESPAWN=1 would override that with an in-process restart
    // whose ~2-4 s port outage our readiness cannot see (measured on 2026.9.6), so it is left unset.
    OPENCLAW_SUPERVISOR_MODE: 'external',
    NO_COLOR: '1',
  };
}
