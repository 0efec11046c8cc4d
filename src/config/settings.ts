import { isIP } from 'node:net';
import { parseReleasePin } from './release-pin.js';
import { UsageError } from '../errors.js';
import { DEFAULT_LIVENESS } from './liveness-settings.js';
import { TIME_BOUNDS } from '../time-bounds.js';
import { DEFAULTS } from './config.js';

/**
 * Every setting the supervisor takes: its environment variable, its flag and how it is parsed.
 * One table so that the parser, `--help` and the README cannot drift apart.
 */
export interface SettingSpec<T> {
  readonly env: string;
  readonly flag: string;
  /**
   * The default as the README's settings table writes it (Markdown), built from the values the code
   * uses; --help prints it without the backticks. test/unit/readme.test.ts checks the README's cell.
   */
  readonly default: string;
  /** What it does, without the default. */
  readonly help: string;
  readonly parse: (raw: string, origin: string) => T;
}

export function invalid(origin: string, raw: string, allowed: string): UsageError {
  return new UsageError(`${origin}=${JSON.stringify(raw)} is invalid: ${allowed}`);
}

export function parseInteger(raw: string, origin: string, min: number, max: number, what: string): number {
  const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(origin, raw, `expected ${what} (an integer from ${min} to ${max})`);
  }
  return value;
}

const port = (raw: string, origin: string): number => parseInteger(raw, origin, 1, 65535, 'a TCP port');
const positiveMs = (raw: string, origin: string): number =>
  parseInteger(raw, origin, 1, 2_147_483_647, 'a duration in milliseconds greater than 0');
const nonNegativeMs = (raw: string, origin: string): number => parseInteger(raw, origin, 0, 2_147_483_647, 'a duration in milliseconds (0 for none)');
const count = (raw: string, origin: string): number => parseInteger(raw, origin, 1, 1000, 'a count');
const text = (raw: string, origin: string): string => {
  if (raw.trim() === '') throw invalid(origin, raw, 'expected a non-empty value');
  return raw.trim();
};
const list = (raw: string): string[] =>
  raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const HOST_ALLOWED =
  'expected an IP address or host name: an IPv4 address such as 0.0.0.0, an IPv6 address such as :: (all interfaces, IPv4 and IPv6) or ::1 (brackets allowed), or a host name made of dot-separated labels of letters, digits and hyphens';

/** Why `value` is neither an IP literal nor a syntactically valid host name (RFC 1123), or null. */
function hostProblem(value: string): string | null {
  if (value === '') return 'it is empty';
  if (isIP(value) !== 0) return null;
  if (value.includes(':')) return /^(\[.*\]|[^:[]*):\d+$/.test(value) ? 'HOST takes no port (set PORT for that)' : 'it is not a valid IPv6 address';
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  const labels = name.split('.');
  // A last label of digits only is an IPv4 address in the making (999.1.1.1, 127.1): resolvers treat it as one.
  if (/^(0x[0-9a-f]*|\d+)$/i.test(labels[labels.length - 1] ?? '')) return 'it looks like an IPv4 address but is not one (each of the four numbers must be 0 to 255, without leading zeros)';
  if (name.length > 253) return 'a host name has at most 253 characters';
  for (const label of labels) {
    if (label === '') return 'it has an empty label (two dots in a row, or a leading dot)';
    if (label.length > 63) return `the label "${label.slice(0, 20)}…" is longer than 63 characters`;
    if (!/^[a-z0-9-]+$/i.test(label)) return `the label "${label}" has characters other than letters, digits and hyphens`;
    if (label.startsWith('-') || label.endsWith('-')) return `the label "${label}" starts or ends with a hyphen`;
  }
  return null;
}

function host(raw: string, origin: string): string {
  const value = raw.trim().replace(/^\[(.*)\]$/, '$1');
  const problem = hostProblem(value);
  if (problem !== null) throw invalid(origin, raw, `${HOST_ALLOWED}; ${problem}`);
  return value;
}

function cidrList(raw: string, origin: string): string[] {
  const entries = list(raw);
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const maxPrefix = family === 6 ? 128 : 32;
    const prefixOk = prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= maxPrefix);
    if (family === 0 || !prefixOk || extra !== undefined) {
      throw invalid(origin, raw, `"${entry}" is not an IP address or CIDR range (e.g. 10.0.0.0/8, fd00::/8)`);
    }
  }
  return entries;
}

function originList(raw: string, origin: string): string[] {
  const entries = list(raw);
  for (const entry of entries) {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    const bare = url !== undefined && /^https?:$/.test(url.protocol) && url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '';
    if (!bare) throw invalid(origin, raw, `"${entry}" is not an origin like https://example.up.railway.app ("*" is not allowed)`);
  }
  // The gateway compares lower-cased exact origins: normalise (case, default port, trailing slash).
  return entries.map((entry) => new URL(entry).origin);
}

/**
 * An incoming-webhook URL (Slack, Discord, Mattermost, a relay of your own): http or https, no
 * user:password (fetch refuses those; put a secret in the path or query, as those services do).
 * The value is a secret in its own right: it is never echoed, only its scheme and host.
 */
function webhookUrl(raw: string, origin: string): string {
  const value = raw.trim();
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  const where = url === undefined ? '' : ` (${url.protocol}//${url.host})`;
  const refuse = (why: string): UsageError => new UsageError(`${origin} is invalid${where}: ${why}`);
  if (url === undefined) throw refuse('expected an absolute http:// or https:// URL, e.g. https://hooks.slack.com/services/…');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse(`expected an http:// or https:// URL, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw refuse('a user name or password in the URL is not supported (fetch refuses it): put the secret in the path or query');
  if (url.hash !== '') throw refuse('a #fragment is never sent: drop it');
  return url.href;
}

function logLevel(raw: string, origin: string): LogLevel {
  const value = raw.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw invalid(origin, raw, `expected one of ${LOG_LEVELS.join(', ')}`);
  }
  return value as LogLevel;
}

function onOff(raw: string, origin: string): boolean {
  const value = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw invalid(origin, raw, 'expected 1 or 0 (true/false, yes/no, on/off)');
}

function factor(raw: string, origin: string): number {
  const value = /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 1 && value <= 10)) throw invalid(origin, raw, 'expected a number from 1 to 10');
  return value;
}

function loopbackClients(raw: string, origin: string): 'local' | 'remote' {
  const value = raw.trim().toLowerCase();
  if (value !== 'local' && value !== 'remote') {
    throw invalid(origin, raw, 'expected local (a loopback client without forwarding headers is on this host) or remote (a tunnel such as ssh -L, socat or kubectl port-forward reaches the port over loopback)');
  }
  return value;
}

const spec = <T>(s: SettingSpec<T>): SettingSpec<T> => s;

export const SETTINGS = {
  publicPort: spec({ env: 'PORT', flag: 'port', default: `${DEFAULTS.publicPort}`, help: 'public port the supervisor listens on', parse: port }),
  host: spec({ env: 'HOST', flag: 'host', default: `\`${DEFAULTS.host}\``, help: 'public address to listen on (:: is all interfaces, IPv4 and IPv6)', parse: host }),
  gatewayPort: spec({ env: 'SUPERVISOR_GATEWAY_PORT', flag: 'gateway-port', default: `${DEFAULTS.gatewayPort}`, help: 'internal loopback port of the gateway', parse: port }),
  tokenFile: spec({ env: 'OPENCLAW_GATEWAY_TOKEN_FILE', flag: 'token-file', default: '–', help: 'file holding the gateway token (wins over OPENCLAW_GATEWAY_TOKEN)', parse: text }),
  stateDir: spec({ env: 'OPENCLAW_STATE_DIR', flag: 'state-dir', default: '`$RAILWAY_VOLUME_MOUNT_PATH/.openclaw`, else `~/.openclaw`', help: 'gateway state directory', parse: text }),
  startupTimeoutMs: spec({ env: 'SUPERVISOR_STARTUP_TIMEOUT_MS', flag: 'startup-timeout-ms', default: `${DEFAULTS.startupTimeoutMs}`, help: 'how long the gateway may take to become ready', parse: positiveMs }),
  stopTimeoutMs: spec({ env: 'SUPERVISOR_STOP_TIMEOUT_MS', flag: 'stop-timeout-ms', default: `${DEFAULTS.stopTimeoutMs} (5/8 of a shorter drain)`, help: 'grace period between SIGTERM and SIGKILL for the gateway group', parse: positiveMs }),
  drainTimeoutMs: spec({
    env: 'SUPERVISOR_DRAIN_TIMEOUT_MS',
    flag: 'drain-timeout-ms',
    default: `\`RAILWAY_DEPLOYMENT_DRAINING_SECONDS\`×1000 − ${DEFAULTS.drainSafetyMarginMs} (min(${DEFAULTS.drainSafetyMarginMs / 1000} s, ¼) margin); ${DEFAULTS.kubernetesDrainTimeoutMs} on Kubernetes; else ${DEFAULTS.drainTimeoutMs}`,
    help: 'deadline for the whole graceful stop',
    parse: positiveMs,
  }),
  shutdownDelayMs: spec({ env: 'SUPERVISOR_SHUTDOWN_DELAY_MS', flag: 'shutdown-delay-ms', default: `${DEFAULTS.kubernetesShutdownDelayMs} on Kubernetes (\`KUBERNETES_SERVICE_HOST\` set), else 0`, help: 'after a stop signal, keep serving this long with /readyz 503 before draining', parse: nonNegativeMs }),
  logLevel: spec({ env: 'SUPERVISOR_LOG_LEVEL', flag: 'log-level', default: DEFAULTS.logLevel, help: 'trace, debug, info, warn, error, fatal or silent', parse: logLevel }),
  logFields: spec({ env: 'SUPERVISOR_LOG_FIELDS', flag: 'log-fields', default: DEFAULTS.logFields ? '1' : '0', help: "on a terminal, 1 shows every record with all its fields and every gateway line, as the debug level does (0: one short line per record a person needs, repeated gateway warnings folded; JSON off a terminal always has everything)", parse: onOff }),
  restartDelayMs: spec({ env: 'SUPERVISOR_RESTART_DELAY_MS', flag: 'restart-delay-ms', default: `${DEFAULTS.restart.initialDelayMs}`, help: 'first restart delay after a crash (jittered up to 2x)', parse: positiveMs }),
  restartMaxDelayMs: spec({ env: 'SUPERVISOR_RESTART_MAX_DELAY_MS', flag: 'restart-max-delay-ms', default: `${DEFAULTS.restart.maxDelayMs}`, help: 'cap of the restart delay', parse: positiveMs }),
  restartFactor: spec({ env: 'SUPERVISOR_RESTART_FACTOR', flag: 'restart-factor', default: `${DEFAULTS.restart.factor}`, help: 'growth factor of the restart delay', parse: factor }),
  restartStableMs: spec({ env: 'SUPERVISOR_RESTART_STABLE_MS', flag: 'restart-stable-ms', default: `${DEFAULTS.restart.stableAfterMs}`, help: 'ready this long and the backoff resets', parse: positiveMs }),
  restartLimitBurst: spec({ env: 'SUPERVISOR_RESTART_LIMIT_BURST', flag: 'restart-limit-burst', default: `${DEFAULTS.restart.limitBurst}`, help: 'failures within the interval that make a crash loop', parse: count }),
  restartLimitIntervalMs: spec({ env: 'SUPERVISOR_RESTART_LIMIT_INTERVAL_MS', flag: 'restart-limit-interval-ms', default: `${DEFAULTS.restart.limitIntervalMs}`, help: 'window of the crash-loop count', parse: positiveMs }),
  trustedProxies: spec({ env: 'SUPERVISOR_TRUSTED_PROXIES', flag: 'trusted-proxies', default: "none (loopback's `X-Forwarded-For` is read anyway, unless `SUPERVISOR_LOOPBACK_CLIENTS=remote`)", help: 'CIDR list of peers whose X-Forwarded-* headers are kept', parse: cidrList }),
  loopbackClients: spec({ env: 'SUPERVISOR_LOOPBACK_CLIENTS', flag: 'loopback-clients', default: '`local`', help: 'local or remote: remote when a tunnel without X-Forwarded-For (ssh -L, socat, kubectl port-forward) reaches the port over loopback', parse: loopbackClients }),
  metricsPort: spec({ env: 'SUPERVISOR_METRICS_PORT', flag: 'metrics-port', default: 'off', help: 'serve Prometheus /metrics on this port, a listener of its own', parse: port }),
  metricsHost: spec({ env: 'SUPERVISOR_METRICS_HOST', flag: 'metrics-host', default: `\`${DEFAULTS.metricsHost}\``, help: 'address of the metrics listener (:: is all interfaces: the scraper is another pod or host)', parse: host }),
  alertWebhook: spec({ env: 'SUPERVISOR_ALERT_WEBHOOK', flag: 'alert-webhook', default: 'none', help: 'incoming-webhook URL (Slack/Discord style) that gets one JSON POST per alert', parse: webhookUrl }),
  alertRestarts: spec({ env: 'SUPERVISOR_ALERT_RESTARTS', flag: 'alert-restarts', default: `${DEFAULTS.alerts.restarts}`, help: 'alert when this many restarts after failures happen within the alert window', parse: count }),
  alertWindowMs: spec({ env: 'SUPERVISOR_ALERT_WINDOW_MS', flag: 'alert-window-ms', default: `${DEFAULTS.alerts.windowMs}`, help: 'window of that restart count', parse: positiveMs }),
  livenessIntervalMs: spec({ env: 'SUPERVISOR_LIVENESS_INTERVAL_MS', flag: 'liveness-interval-ms', default: `${DEFAULT_LIVENESS.intervalMs}`, help: 'pause between liveness probes (GET /healthz) of the ready gateway; 0 turns probing off', parse: nonNegativeMs }),
  livenessTimeoutMs: spec({ env: 'SUPERVISOR_LIVENESS_TIMEOUT_MS', flag: 'liveness-timeout-ms', default: `${DEFAULT_LIVENESS.timeoutMs}`, help: 'a liveness probe not answered within this fails: /readyz 503', parse: positiveMs }),
  livenessFailures: spec({ env: 'SUPERVISOR_LIVENESS_FAILURES', flag: 'liveness-failures', default: `${DEFAULT_LIVENESS.failuresToKill}`, help: 'failed liveness probes in a row that get the gateway killed and restarted', parse: count }),
  channelHealthIntervalMs: spec({ env: 'SUPERVISOR_CHANNEL_HEALTH_INTERVAL_MS', flag: 'channel-health-interval-ms', default: `${TIME_BOUNDS.channelHealthInterval.ms}`, help: "pause between reads of the ready gateway's own GET /readyz for failing channels, reported and alerted, never restarted; 0 turns it off", parse: nonNegativeMs }),
  diskCheckIntervalMs: spec({ env: 'SUPERVISOR_DISK_CHECK_INTERVAL_MS', flag: 'disk-check-interval-ms', default: `${TIME_BOUNDS.diskCheckInterval.ms}`, help: "pause between checks of the state directory's free space and writability; 0 turns them off", parse: nonNegativeMs }),
  runAs: spec({ env: 'SUPERVISOR_RUN_AS', flag: 'run-as', default: 'unset (`node` in the image)', help: 'started as root: prepare the state dir for this user, then run the supervisor and the gateway as it (unset: stay who we are)', parse: text }),
  openclawVersion: spec({ env: 'SUPERVISOR_OPENCLAW_VERSION', flag: 'openclaw-version', default: "the newer of the image's and the last good one", help: "the openclaw release to run (e.g. 2026.9.6, or latest): the image's own when it matches, else installed from the npm registry into the state volume, after a verified backup and the release's own database preflight, rolled back when it does not get ready", parse: parseReleasePin }),
  allowedOrigins: spec({ env: 'SUPERVISOR_ALLOWED_ORIGINS', flag: 'allowed-origins', default: '`https://$RAILWAY_PUBLIC_DOMAIN`, else none', help: 'origins allowed to open the Control UI', parse: originList }),
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type SettingValues = { [K in SettingKey]?: ReturnType<(typeof SETTINGS)[K]['parse']> };
