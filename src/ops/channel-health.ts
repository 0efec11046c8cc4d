import { abortableSleep } from '../gateway/abortable-sleep.js';
import { loopbackGet } from '../gateway/loopback-get.js';

/**
 * Channel health of the ready gateway, read from the gateway's own `GET /readyz` on
 * loopback. A loopback caller gets the full body (measured on openclaw@2026.9.6, a Telegram account
 * without network, ~125 s after start once its 120 s connect grace ran out):
 *   503 {"ready":false,"failing":["telegram"],"uptimeMs":173382,"eventLoop":{…}}
 *   200 {"ready":true,"failing":[],"uptimeMs":8422,"eventLoop":{…}}
 * `failing` names channel ids, or `agent-database:<id>`, `plugin-reload`, `state-database`,
 * `internal` (dist/server-start-*.mjs, createReadinessChecker). This is reported, never acted on:
 * restarting the gateway would kill in-flight turns and the gateway's own health monitor already
 * restarts channels; failing the supervisor's /readyz would make the platform restart the container.
 *
 * Pure parts: `parseReadiness` (one answer in, the failing set or null out) and `diffFailing`
 * (previous vs current set); `watchChannelHealth` is the I/O around them.
 */
export interface ChannelHealthSettings {
  /** Pause between two reads of the gateway's /readyz; 0: off. */
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** A gateway answer larger than this is not a readiness body (the measured one is ~350 bytes). */
export const MAX_READINESS_BODY_BYTES = 64 * 1024;
/** Entries of one answer looked at; a longer list is cut (the set, the records and the metric stay bounded). */
export const MAX_FAILING_ENTRIES = 64;
/** What a failing entry may look like to be reported under its own name; anything else is `_other`. */
const ENTRY = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/;
export const OTHER_ENTRY = '_other';
/** The gateway's drain at a stop or a restart request: no channel's fault. */
const NOT_A_FAULT = new Set(['gateway-draining']);

export function isReportableEntry(value: unknown): value is string {
  return typeof value === 'string' && ENTRY.test(value);
}

/**
 * The failing entries of one /readyz answer, or null when the answer is not a readiness answer
 * (another status, no JSON, a status that contradicts `ready`): then nothing is concluded.
 */
export function parseReadiness(status: number, body: string): string[] | null {
  if (status !== 200 && status !== 503) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const { ready, failing } = parsed as { ready?: unknown; failing?: unknown };
  if (typeof ready !== 'boolean' || ready !== (status === 200)) return null;
  if (failing === undefined && ready) return [];
  if (!Array.isArray(failing)) return null;
  const entries = new Set<string>();
  for (const entry of failing.slice(0, MAX_FAILING_ENTRIES)) {
    const name = isReportableEntry(entry) ? entry : OTHER_ENTRY;
    if (!NOT_A_FAULT.has(name)) entries.add(name);
  }
  return [...entries].sort();
}

export interface FailingDiff {
  /** Failing now, not before. */
  readonly unhealthy: readonly string[];
  /** Failing before, not now. */
  readonly recovered: readonly string[];
}

export function diffFailing(previous: ReadonlySet<string>, current: ReadonlySet<string>): FailingDiff {
  return {
    unhealthy: [...current].filter((entry) => !previous.has(entry)).sort(),
    recovered: [...previous].filter((entry) => !current.has(entry)).sort(),
  };
}

export type ReadinessAnswer = { readonly status: number; readonly body: string } | null;
export type ReadinessFetch = (port: number, timeoutMs: number, signal?: AbortSignal) => Promise<ReadinessAnswer>;

/** GET /readyz on 127.0.0.1 with a socket of its own, bounded in time and size; null on any failure. */
export const fetchReadiness: ReadinessFetch = async (port, timeoutMs, signal) => {
  const answer = await loopbackGet(port, '/readyz', timeoutMs, MAX_READINESS_BODY_BYTES, signal);
  return answer.ok ? { status: answer.status, body: answer.body } : null;
};

/**
 * Reads /readyz every `intervalMs` until `signal` aborts, and reports each change of the failing set
 * against `initial` (the set is the caller's: it outlives one gateway, so a restart that fixes a
 * channel reads as its recovery). An unreadable answer changes nothing: a gateway that does not
 * answer at all is the liveness probe's business.
 */
export async function watchChannelHealth(
  port: number,
  settings: ChannelHealthSettings,
  signal: AbortSignal,
  initial: ReadonlySet<string>,
  onChange: (diff: FailingDiff, failing: ReadonlySet<string>) => void,
  fetcher: ReadinessFetch = fetchReadiness,
): Promise<void> {
  let failing = initial;
  while (!signal.aborted) {
    await abortableSleep(settings.intervalMs, signal);
    if (signal.aborted) return;
    const answer = await fetcher(port, settings.timeoutMs, signal);
    if (signal.aborted) return;
    const entries = answer === null ? null : parseReadiness(answer.status, answer.body);
    if (entries === null) continue;
    const current = new Set(entries);
    const diff = diffFailing(failing, current);
    failing = current;
    if (diff.unhealthy.length > 0 || diff.recovered.length > 0) onChange(diff, current);
  }
}
