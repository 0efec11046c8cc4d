import http from 'node:http';
import { LOOPBACK_IPV4 } from '../host/loopback.js';
import { TIME_BOUNDS } from '../time-bounds.js';

export interface ReadinessProbe {
  /** Resolves once GET /startupz answers 200 from our own gateway; rejects when aborted. */
  readonly ready: Promise<void>;
  /** Probe now instead of at the next tick (the gateway printed its ready line). */
  kick(): void;
}

export const READINESS_POLL_MS = TIME_BOUNDS.readinessPoll.ms;
const PROBE_TIMEOUT_MS = TIME_BOUNDS.readinessProbeTimeout.ms;

type ProbeResult = { ok: true } | { ok: false; foreign: boolean };

/** GET /startupz's answer (status and body), or null when there was none (refused, timed out, cut). */
export type StartupAnswer = { readonly status: number; readonly body: string } | null;

/** What waitUntilReady reads of the world; the defaults are the real ones (tests inject fakes). */
export interface ReadinessEffects {
  readonly get: (port: number) => Promise<StartupAnswer>;
  readonly now: () => number;
  readonly pollMs: number;
}

const REAL_READINESS_EFFECTS: ReadinessEffects = { get: getStartupz, now: () => Date.now(), pollMs: READINESS_POLL_MS };

/**
 * Polls the gateway's `/startupz` on loopback. A TCP connect is not enough: the port opens ~1.5 s
 * before the gateway is ready, and a port held by someone else accepts too. A 200 whose reported
 * uptime is older than our spawn comes from another process and does not count.
 */
export function waitUntilReady(port: number, spawnedAt: number, signal: AbortSignal, onForeign: () => void, effects: Partial<ReadinessEffects> = {}): ReadinessProbe {
  const fx = { ...REAL_READINESS_EFFECTS, ...effects };
  let timer: NodeJS.Timeout | undefined;
  let inFlight = false;
  let kicked = false;
  let resolveReady!: () => void;
  let rejectReady!: (reason: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  void ready.catch(() => undefined);

  const schedule = (delay: number): void => {
    clearTimeout(timer);
    timer = setTimeout(probeOnce, delay);
  };

  const probeOnce = (): void => {
    if (signal.aborted) return;
    if (inFlight) {
      kicked = true;
      return;
    }
    inFlight = true;
    fx.get(port).then((answer) => {
      const result = judge(answer, spawnedAt, fx.now());
      inFlight = false;
      if (signal.aborted) return;
      if (result.ok) return resolveReady();
      if (result.foreign) onForeign();
      if (kicked) {
        kicked = false;
        return schedule(0);
      }
      schedule(fx.pollMs);
    }, () => undefined);
  };

  signal.addEventListener(
    'abort',
    () => {
      clearTimeout(timer);
      rejectReady(signal.reason);
    },
    { once: true },
  );
  schedule(0);
  return { ready, kick: () => schedule(0) };
}

/** Ready: a 200 from our own gateway, i.e. one whose reported uptime fits since our spawn (1 s of slack). */
function judge(answer: StartupAnswer, spawnedAt: number, now: number): ProbeResult {
  if (answer === null || answer.status !== 200) return { ok: false, foreign: false };
  const uptimeMs = readUptime(answer.body);
  const foreign = uptimeMs !== null && uptimeMs > now - spawnedAt + TIME_BOUNDS.readinessUptimeSlack.ms;
  return foreign ? { ok: false, foreign } : { ok: true };
}

function getStartupz(port: number): Promise<StartupAnswer> {
  return new Promise((resolve) => {
    const request = http.get({ host: LOOPBACK_IPV4, port, path: '/startupz', agent: false, timeout: PROBE_TIMEOUT_MS }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', () => resolve(null));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(null));
  });
}

function readUptime(body: string): number | null {
  try {
    const parsed: unknown = JSON.parse(body);
    const uptime = (parsed as { uptimeMs?: unknown } | null)?.uptimeMs;
    return typeof uptime === 'number' ? uptime : null;
  } catch {
    return null;
  }
}
