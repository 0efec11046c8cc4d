import { isIP } from 'node:net';
import { RELAYED_LOOPBACK_CLIENT, type LoopbackClients } from '../front-door/client-attribution.js';
import { configValue, type JsonObject } from '../gateway-config/effective-config.js';
import { LOOPBACK_ADDRESSES, isLoopback } from '../host/loopback.js';
import type { Platform, PlatformKind } from '../host/platform.js';
import type { EventFields } from '../log/events.js';

/**
 * The gateway's auth rate limit when `gateway.auth.rateLimit` is unset: on by default, per client
 * address and scope, loopback exempt (openclaw@2026.9.6, dist/auth-rate-limit-*.mjs:
 * DEFAULT_MAX_ATTEMPTS, DEFAULT_WINDOW_MS, DEFAULT_LOCKOUT_MS, exemptLoopback ?? true).
 */
export const GATEWAY_RATE_LIMIT_DEFAULTS = { maxAttempts: 10, windowMs: 60_000, lockoutMs: 300_000, exemptLoopback: true } as const;

export interface RateLimit {
  readonly source: 'gateway default' | 'gateway.auth.rateLimit';
  readonly maxAttempts: number;
  readonly windowMs: number;
  readonly lockoutMs: number;
  readonly exemptLoopback: boolean;
}

export interface ExposureInput {
  readonly platform: Platform;
  readonly host: string;
  readonly port: number;
  /** SUPERVISOR_TRUSTED_PROXIES: the peers whose X-Forwarded-For the front door keeps. */
  readonly trustedProxies: readonly string[];
  /** SUPERVISOR_LOOPBACK_CLIENTS. */
  readonly loopbackClients: LoopbackClients;
  /** Where the token the supervisor hands the gateway came from (env, file, generated, stored). */
  readonly tokenOrigin: string;
  /** The gateway config as the gateway reads it, or null when it cannot be read. */
  readonly effectiveConfig: JsonObject | null;
  readonly configError: string | null;
}

export interface Exposure {
  readonly platform: PlatformKind;
  readonly platformEvidence: readonly string[];
  /** Reachable from other hosts (HOST is not a loopback address). */
  readonly public: boolean;
  readonly address: string;
  /**
   * Who may speak for clients: the front door reads X-Forwarded-For from these, and from loopback
   * peers unless loopbackClients is `remote` (then from listed loopback addresses only);
   * the gateway trusts only the front door (loopback) and gets the client it resolved.
   */
  readonly trustedProxies: { readonly frontDoor: readonly string[]; readonly source: 'SUPERVISOR_TRUSTED_PROXIES' | 'none'; readonly gateway: readonly string[] };
  /**
   * A loopback peer without forwarding headers: `local` (a client on this host: its device is
   * approved silently) or `remote` (a tunnel's client, given RELAYED_LOOPBACK_CLIENT).
   */
  readonly loopbackClients: LoopbackClients;
  /** How the gateway tells remote clients apart (for lockouts and logs). */
  readonly clientAddresses: 'per-client' | 'shared-edge-address' | 'per-client-through-trusted-proxies';
  readonly auth: { readonly mode: 'token'; readonly token: string };
  readonly rateLimit: RateLimit | { readonly source: 'unknown'; readonly reason: string };
  readonly allowedOrigins: readonly string[];
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : []);
const duration = (value: unknown, fallback: number): number => (typeof value === 'number' && Number.isFinite(value) ? Math.max(0, Math.trunc(value)) : fallback);

/** The rate limit the gateway applies with this config (its own defaults for what is unset). */
export function rateLimitInForce(config: JsonObject | null): RateLimit {
  const raw = configValue(config, 'gateway.auth.rateLimit');
  const set = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : null;
  const d = GATEWAY_RATE_LIMIT_DEFAULTS;
  return {
    source: set === null ? 'gateway default' : 'gateway.auth.rateLimit',
    maxAttempts: typeof set?.['maxAttempts'] === 'number' ? set['maxAttempts'] : d.maxAttempts,
    windowMs: duration(set?.['windowMs'], d.windowMs),
    lockoutMs: duration(set?.['lockoutMs'], d.lockoutMs),
    exemptLoopback: typeof set?.['exemptLoopback'] === 'boolean' ? set['exemptLoopback'] : d.exemptLoopback,
  };
}

/** What protects the gateway, from the supervisor's settings and the effective gateway config. Pure. */
export function describeExposure(input: ExposureInput): Exposure {
  const isPublic = input.host !== 'localhost' && !isLoopback(input.host) && !input.host.startsWith('127.');
  const config = input.effectiveConfig;
  const configToken = configValue(config, 'gateway.auth.token');
  const gatewayProxies = strings(configValue(config, 'gateway.trustedProxies'));
  const clientAddresses =
    input.trustedProxies.length > 0 ? 'per-client-through-trusted-proxies' : input.platform.edgeProxy && isPublic ? 'shared-edge-address' : 'per-client';
  return {
    platform: input.platform.kind,
    platformEvidence: input.platform.evidence,
    public: isPublic,
    address: `[${input.host}]:${input.port}`,
    trustedProxies: {
      frontDoor: input.trustedProxies,
      source: input.trustedProxies.length > 0 ? 'SUPERVISOR_TRUSTED_PROXIES' : 'none',
      gateway: gatewayProxies.length > 0 || config === null ? gatewayProxies : [...LOOPBACK_ADDRESSES],
    },
    loopbackClients: input.loopbackClients,
    clientAddresses,
    auth: {
      mode: 'token',
      // Measured on 2026.9.6: a token in the config is enforced and the env token is then rejected.
      token: configToken !== undefined && configToken !== null && configToken !== '' ? 'gateway.auth.token in the config (wins over OPENCLAW_GATEWAY_TOKEN)' : input.tokenOrigin,
    },
    rateLimit: config === null ? { source: 'unknown', reason: `gateway config unreadable: ${input.configError ?? 'unknown error'}` } : rateLimitInForce(config),
    allowedOrigins: strings(configValue(config, 'gateway.controlUi.allowedOrigins')),
  };
}

function describeRateLimit(rate: Exposure['rateLimit']): string {
  if (rate.source === 'unknown') return `rate limit unknown (${rate.reason})`;
  const loopback = rate.exemptLoopback ? 'loopback exempt' : 'loopback NOT exempt';
  return `${rate.maxAttempts} failed attempts within ${rate.windowMs / 1000} s lock a client address out for ${rate.lockoutMs / 1000} s (${rate.source}, ${loopback})`;
}

/** The `supervisor.exposure` record: one line that says what protects the gateway. No secrets. */
export function exposureRecord(exposure: Exposure): { fields: EventFields['supervisor.exposure']; message: string } {
  const who =
    exposure.trustedProxies.source === 'none'
      ? 'X-Forwarded-For read only from proxies on this host'
      : `X-Forwarded-For read only from proxies on this host and ${exposure.trustedProxies.frontDoor.join(', ')} (SUPERVISOR_TRUSTED_PROXIES)`;
  const loopback =
    exposure.loopbackClients === 'remote'
      ? `loopback clients without X-Forwarded-For are remote, as ${RELAYED_LOOPBACK_CLIENT} (SUPERVISOR_LOOPBACK_CLIENTS=remote)`
      : 'loopback clients without X-Forwarded-For are local (behind ssh -L, socat, kubectl port-forward or another TCP tunnel, set SUPERVISOR_LOOPBACK_CLIENTS=remote)';
  const where = exposure.public ? `public on ${exposure.address}` : `local only on ${exposure.address}`;
  const origins = exposure.allowedOrigins.length > 0 ? exposure.allowedOrigins.join(', ') : 'none';
  return {
    fields: exposure,
    message: `gateway ${where} (${exposure.platform}): token auth; ${describeRateLimit(exposure.rateLimit)}; ${who}; ${loopback}; Control UI origins: ${origins}`,
  };
}

/**
 * The `supervisor.shared_client_address` warning, or null: behind a platform proxy with no trusted
 * proxies, every remote client reaches the gateway with the proxy's address.
 */
export function sharedClientAddressRecord(exposure: Exposure): { fields: EventFields['supervisor.shared_client_address']; message: string } | null {
  if (exposure.clientAddresses !== 'shared-edge-address') return null;
  const rate = exposure.rateLimit;
  const lockout =
    rate.source === 'unknown'
      ? 'a few wrong tokens from anyone lock out every remote client'
      : `${rate.maxAttempts} wrong tokens from anyone (a stranger) lock out every remote client, the owner included, for ${rate.lockoutMs / 1000} s`;
  return {
    fields: {
      platform: exposure.platform,
      setting: 'SUPERVISOR_TRUSTED_PROXIES',
      findItIn: 'front_door.forwarded_headers_replaced',
    },
    message:
      `every remote client reaches the gateway with the ${exposure.platform} edge's address, so they share one address for auth lockouts and logs: ${lockout}. ` +
      'To tell them apart, set SUPERVISOR_TRUSTED_PROXIES to the edge\'s address: the "peer" of the front_door.forwarded_headers_replaced record logged at the first proxied request ' +
      '(the exact address, never a whole private range: other services of the project could then speak for anyone). See docs/railway-edge.md.',
  };
}

export interface Finding {
  readonly checkId: string;
  readonly severity: 'critical' | 'warn' | 'info';
  readonly title: string;
  readonly detail: string;
  readonly remediation?: string;
}

/** A trusted range wider than one subnet lets whoever else sits in it choose any client address. */
function wideRanges(cidrs: readonly string[]): string[] {
  return cidrs.filter((cidr) => {
    const [address = '', rawPrefix] = cidr.split('/');
    if (rawPrefix === undefined) return false;
    const prefix = Number(rawPrefix);
    return isIP(address) === 6 ? prefix < 64 : prefix < 24;
  });
}

/**
 * The supervisor's own view for `openclaw-supervisor audit`: what the gateway's audit cannot see
 * because the gateway binds loopback while the front door makes it public. Pure.
 */
export function supervisorFindings(exposure: Exposure): Finding[] {
  const findings: Finding[] = [];
  const rate = exposure.rateLimit;
  if (exposure.public) {
    findings.push({
      checkId: 'supervisor.gateway_public_through_front_door',
      severity: 'info',
      title: 'The gateway is public through the front door',
      detail:
        `The gateway binds loopback, so its audit treats it as local: gateway.auth_no_rate_limit, gateway.bind_no_auth and gateway.control_ui.allowed_origins_required look only at gateway.bind and stay silent. ` +
        `The front door makes it public on ${exposure.address}. What protects it: token auth (the supervisor always runs --auth token; token: ${exposure.auth.token}); ` +
        `${describeRateLimit(rate)}; remote devices need a pairing approval for operator scopes; Control UI origins: ${exposure.allowedOrigins.join(', ') || 'none'}.`,
    });
  }
  if (rate.source === 'unknown') {
    findings.push({ checkId: 'supervisor.config_unreadable', severity: 'warn', title: 'The gateway config cannot be read', detail: rate.reason, remediation: 'Fix the config: the gateway refuses to start with it (exit 78).' });
  } else if (rate.maxAttempts <= 0 || rate.windowMs === 0 || rate.lockoutMs === 0 || rate.maxAttempts > 1000) {
    findings.push({
      checkId: 'supervisor.auth_rate_limit_disabled',
      severity: exposure.public ? 'critical' : 'warn',
      title: 'gateway.auth.rateLimit effectively disables lockouts',
      detail: `${describeRateLimit(rate)}: wrong tokens are not throttled.`,
      remediation: `Remove gateway.auth.rateLimit (the default: ${GATEWAY_RATE_LIMIT_DEFAULTS.maxAttempts} failures per ${GATEWAY_RATE_LIMIT_DEFAULTS.windowMs / 1000} s, ${GATEWAY_RATE_LIMIT_DEFAULTS.lockoutMs / 1000} s lockout) or set positive values.`,
    });
  } else if (rate.source === 'gateway default' && exposure.public) {
    findings.push({
      checkId: 'supervisor.auth_rate_limit_default',
      severity: 'info',
      title: 'The gateway\'s default auth rate limit is in force',
      detail: `gateway.auth.rateLimit is unset. The gateway's gateway.auth_no_rate_limit check would call that "no rate limiting" on a public bind; in fact the default applies: ${describeRateLimit(rate)}.`,
    });
  }
  if (rate.source !== 'unknown' && !rate.exemptLoopback) {
    findings.push({
      checkId: 'supervisor.loopback_not_exempt',
      severity: 'warn',
      title: 'Loopback clients can be locked out',
      detail: 'gateway.auth.rateLimit.exemptLoopback=false: the CLI inside the container (openclaw devices approve …) shares a lockout with every local mistake.',
      remediation: 'Remove exemptLoopback (default true); remote clients never look local through the front door.',
    });
  }
  if (exposure.clientAddresses === 'shared-edge-address') {
    const record = sharedClientAddressRecord(exposure);
    findings.push({
      checkId: 'supervisor.shared_client_address',
      severity: 'warn',
      title: 'Every remote client shares the edge\'s address',
      detail: record?.message ?? '',
      remediation: 'Set SUPERVISOR_TRUSTED_PROXIES to the exact edge address(es) that front_door.forwarded_headers_replaced logs as "peer".',
    });
  }
  const tunnelFinding = loopbackClientsFinding(exposure);
  if (tunnelFinding !== null) findings.push(tunnelFinding);
  const wide = wideRanges(exposure.trustedProxies.frontDoor);
  if (wide.length > 0) {
    findings.push({
      checkId: 'supervisor.trusted_proxies_wide',
      severity: wide.some((cidr) => cidr.endsWith('/0')) ? 'critical' : 'warn',
      title: 'A trusted proxy range is wider than the proxy',
      detail:
        `SUPERVISOR_TRUSTED_PROXIES has ${wide.join(', ')}. Anyone else who can connect from there (on Railway: every other service of the project over the private network, fd12::/16 and its IPv4 range; on Kubernetes: every pod) ` +
        'can send any X-Forwarded-For: put a lockout on the owner\'s address, or escape its own by naming a new address for every attempt.',
      remediation: 'Trust the exact addresses of the proxy (e.g. 100.64.0.2/32), as logged by front_door.forwarded_headers_replaced.',
    });
  }
  // The gateway is reached only from the front door on loopback, which sends it one resolved client
  // address: an entry beyond loopback (left by a version that copied SUPERVISOR_TRUSTED_PROXIES
  // there; the supervisor only adds) makes that client a proxy to the gateway, and its own requests 403.
  const beyondLoopback = exposure.trustedProxies.gateway.filter((entry) => !isLoopbackEntry(entry));
  if (beyondLoopback.length > 0) {
    findings.push({
      checkId: 'supervisor.gateway_trusts_beyond_loopback',
      severity: 'warn',
      title: 'The gateway trusts proxies beyond loopback',
      detail: `gateway.trustedProxies has ${beyondLoopback.join(', ')}: the front door resolves the client itself and the gateway only ever hears it on loopback, so a client at those addresses (a trusted proxy's own request) gets 403 proxy_attribution_required.`,
      remediation: `Keep only loopback there: openclaw-supervisor openclaw config set gateway.trustedProxies '${JSON.stringify(LOOPBACK_ADDRESSES)}' --strict-json (SUPERVISOR_TRUSTED_PROXIES is the front door's list).`,
    });
  }
  if (exposure.public && exposure.platform !== 'local' && exposure.allowedOrigins.length === 0) {
    findings.push({
      checkId: 'supervisor.no_allowed_origins',
      severity: 'info',
      title: 'No Control UI origin is allowed',
      detail: 'A browser opening the Control UI through a public domain is refused (1008 origin not allowed).',
      remediation: 'Set SUPERVISOR_ALLOWED_ORIGINS to the exact origin the browser uses (on Railway, RAILWAY_PUBLIC_DOMAIN sets it).',
    });
  }
  return findings;
}

/** A gateway.trustedProxies entry (address or CIDR) inside 127.0.0.0/8 or ::1. */
function isLoopbackEntry(entry: string): boolean {
  return isLoopback(entry.split('/')[0] ?? '');
}

/**
 * When SUPERVISOR_LOOPBACK_CLIENTS=remote is likely needed: a tunnel that sends no X-Forwarded-For
 * (kubectl port-forward on Kubernetes; anything that brings remote users to a port bound to
 * loopback) makes its clients local, and a local device is approved without asking anyone.
 */
function loopbackClientsFinding(exposure: Exposure): Finding | null {
  if (exposure.loopbackClients === 'remote') return null;
  const kubernetes = exposure.platform === 'kubernetes';
  if (!kubernetes && exposure.public) return null;
  return {
    checkId: 'supervisor.loopback_clients_local',
    severity: kubernetes ? 'warn' : 'info',
    title: 'Clients of a TCP tunnel are local',
    detail:
      (kubernetes
        ? 'kubectl port-forward reaches the pod over loopback and sends no X-Forwarded-For: whoever may port-forward gets a silently approved device with operator.admin. '
        : `The port listens on loopback only (${exposure.address}): remote users reach it only through something on this host. `) +
      'HTTP proxies on this host (nginx, Caddy, Tailscale Serve, cloudflared) name the client in X-Forwarded-For and are handled; plain TCP relays (ssh -L, socat, kubectl port-forward, Tailscale Serve in TCP mode) cannot, so their clients count as local.',
    remediation: `If such a tunnel brings anyone but you, set SUPERVISOR_LOOPBACK_CLIENTS=remote: every loopback client without X-Forwarded-For is then remote (as ${RELAYED_LOOPBACK_CLIENT}) and needs a pairing approval; the devices and openclaw commands reach the gateway directly and stay local.`,
  };
}
