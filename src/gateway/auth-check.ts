import { configValue, readEffectiveConfig, type JsonObject } from '../gateway-config/effective-config.js';
import { emit } from '../log/emit.js';
import type { Logger } from '../log/logger.js';
import { converseWithGateway } from './gateway-ws.js';
import { TIME_BOUNDS } from '../time-bounds.js';

export type ProbeResult = 'accepted' | 'rejected' | 'unknown';

/**
 * Asks the gateway itself whether it accepts `token`: a loopback WebSocket `connect` with no scopes
 * (~5 ms of gateway CPU), closed at once. Loopback needs no device pairing, so only the shared
 * credential decides. `unknown` when the gateway does not answer within `timeoutMs` or answers
 * something else.
 */
export function probeToken(port: number, token: string, timeoutMs = TIME_BOUNDS.authProbeTimeout.ms): Promise<ProbeResult> {
  return converseWithGateway<ProbeResult>({
    port,
    token,
    scopes: [],
    connectId: 'supervisor-auth-check',
    timeoutMs,
    onResponse(response) {
      const code = response.error?.details?.code ?? response.error?.code ?? '';
      return response.ok === true ? 'accepted' : /^AUTH_|UNAUTHORIZED/i.test(code) ? 'rejected' : 'unknown';
    },
    onFailure: () => 'unknown',
  });
}

/** What the effective config (JSON5, `$include`s merged) says about gateway.auth, without its secrets. */
export interface AuthConfigFacts {
  readonly mode: string | null;
  /** gateway.auth.token: absent, a literal, `${VAR}` from the environment, or a secret reference. */
  readonly token: { readonly kind: 'none' } | { readonly kind: 'literal' } | { readonly kind: 'env'; readonly variable: string } | { readonly kind: 'ref'; readonly source: string; readonly id: string | null };
  readonly password: boolean;
}

export function authConfigFacts(config: JsonObject | null): AuthConfigFacts {
  const mode = configValue(config, 'gateway.auth.mode');
  const token = configValue(config, 'gateway.auth.token');
  const password = configValue(config, 'gateway.auth.password');
  let tokenFact: AuthConfigFacts['token'] = { kind: 'none' };
  if (typeof token === 'string' && token !== '') {
    const variable = /^\$\{([A-Z_][A-Z0-9_]*)\}$/.exec(token.trim())?.[1];
    tokenFact = variable ? { kind: 'env', variable } : { kind: 'literal' };
  } else if (typeof token === 'object' && token !== null) {
    const ref = token as { source?: unknown; id?: unknown };
    tokenFact = { kind: 'ref', source: typeof ref.source === 'string' ? ref.source : 'unknown', id: typeof ref.id === 'string' ? ref.id : null };
  }
  return { mode: typeof mode === 'string' ? mode : null, token: tokenFact, password: password !== undefined && password !== null && password !== '' };
}

/** Where the credential the gateway enforces lives, in words (never the secret). */
export function describeEnforcedCredential(facts: AuthConfigFacts, userConfigPath: string): string {
  switch (facts.token.kind) {
    case 'literal':
      return `gateway.auth.token in ${userConfigPath} (or a file it $includes)`;
    case 'env':
      return `gateway.auth.token in ${userConfigPath}, which takes it from the environment variable ${facts.token.variable}`;
    case 'ref':
      return `gateway.auth.token in ${userConfigPath}, a secret reference (source ${facts.token.source}${facts.token.id ? `, id ${facts.token.id}` : ''})`;
    case 'none':
      return `gateway.auth in ${userConfigPath} (mode ${facts.mode ?? 'unset'}${facts.password ? ', a password is set' : ''})`;
  }
}

/**
 * Before the gateway runs: a warning to attach to "token from …" when the effective config sets a
 * credential of its own (the gateway prefers it); null when the supervisor's token is what it will use.
 */
export async function configCredentialNote(configPath: string, userConfigPath: string): Promise<string | null> {
  const effective = await readEffectiveConfig(configPath);
  const facts = authConfigFacts(effective.config);
  if (effective.config !== null && facts.token.kind === 'none' && !facts.password && (facts.mode === null || facts.mode === 'token')) return null;
  if (facts.token.kind === 'env' && facts.token.variable === 'OPENCLAW_GATEWAY_TOKEN') return null;
  return effective.config === null
    ? `unless ${userConfigPath} (unreadable here: ${effective.error}) sets another credential; checked when the gateway is ready`
    : `but ${describeEnforcedCredential(facts, userConfigPath)} takes precedence if it differs; checked when the gateway is ready`;
}

export interface AuthWatchOptions {
  readonly logger: Logger;
  readonly gatewayPort: number;
  readonly token: string;
  /** Where the supervisor's token is, e.g. "in /data/.openclaw/gateway-token" (never the token). */
  readonly tokenWhere: string;
  /** The config the gateway reads (maybe our overlay) and the user's own file, for messages. */
  readonly configPath: string;
  readonly userConfigPath: string;
  readonly selfCommand: string;
  readonly probe?: (port: number, token: string) => Promise<ProbeResult>;
}

/** `[reload] config hot reload applied (gateway.auth.token)`: the gateway changed its credential live (measured on 2026.9.6). */
const AUTH_RELOAD_LINE = /\[reload\] config hot reload applied \(([^)]*\bgateway\.auth\b[^)]*)\)/;

export function isAuthReloadLine(line: string): boolean {
  return AUTH_RELOAD_LINE.test(line);
}

/**
 * Keeps the supervisor truthful about the token: after every ready (each start and each restart
 * request) and after every live reload of gateway.auth, it asks the gateway whether the supervisor's
 * token works. When it does not, one loud `gateway.token_overridden` says which credential is in
 * effect, where it lives and how to get back; when it works again, `gateway.token_restored`.
 */
export class AuthWatch {
  #overridden = false;
  readonly #options: AuthWatchOptions;

  constructor(options: AuthWatchOptions) {
    this.#options = options;
  }

  get overridden(): boolean {
    return this.#overridden;
  }

  /** Checks and logs; resolves with the words for "where the token is" that are true right now. */
  async check(trigger: 'ready' | 'reload'): Promise<{ tokenInEffect: string; result: ProbeResult; probed: boolean }> {
    const { logger, gatewayPort, token, tokenWhere, userConfigPath, selfCommand } = this.#options;
    const effective = await readEffectiveConfig(this.#options.configPath);
    const facts = authConfigFacts(effective.config);
    // Nothing in the config about credentials: the gateway takes the token from OPENCLAW_GATEWAY_TOKEN,
    // i.e. the supervisor's (config-first precedence, openclaw@2026.9.6 auth-resolve). Else ask it.
    const configDecides = effective.config === null || facts.token.kind !== 'none' || facts.password || (facts.mode !== null && facts.mode !== 'token');
    const result = configDecides ? await (this.#options.probe ?? probeToken)(gatewayPort, token) : 'accepted';
    if (result === 'unknown') {
      return { tokenInEffect: `the supervisor's token ${tokenWhere} unless ${describeEnforcedCredential(facts, userConfigPath)} overrides it (the gateway did not answer the check)`, result, probed: true };
    }
    if (result === 'accepted') {
      if (this.#overridden) {
        this.#overridden = false;
        emit(logger, 'gateway.token_restored', { trigger, tokenWhere }, `the gateway accepts the supervisor's token again: use the token ${tokenWhere}`);
      }
      return { tokenInEffect: `the token ${tokenWhere}`, result, probed: configDecides };
    }
    const enforced = describeEnforcedCredential(facts, userConfigPath);
    this.#overridden = true;
    const back =
      facts.token.kind === 'none'
        ? `fix gateway.auth in ${userConfigPath}`
        : `${selfCommand} openclaw config unset gateway.auth.token (the gateway applies it live)`;
    emit(
      logger,
      'gateway.token_overridden',
      { trigger, enforced, authMode: facts.mode, tokenSource: facts.token.kind, supervisorToken: tokenWhere, configPath: userConfigPath, backCommand: back },
      `the gateway does NOT accept the supervisor's token ${tokenWhere}: it enforces ${enforced}. Connect with that credential, or go back to the supervisor's token: ${back}`,
    );
    return { tokenInEffect: enforced, result, probed: true };
  }
}
