import { constants } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/write-file-atomic.js';
import type { GatewayState } from '../gateway/lifecycle.js';
import type { Alert, AlertKind } from './alert-policy.js';
import { EXIT_OUTCOMES } from '../gateway/restart-policy.js';
import type { ExitSummary } from './health-details.js';

/**
 * Alerts still under way when the exit's bound (TIME_BOUNDS.alertExitFlush) ran out, kept in the
 * state directory and delivered at the next start with a webhook, then removed: the exit that most
 * needs an alert (a crash loop, a refusal) is the one that cannot wait for a slow receiver. What is kept is the alert itself
 * (kind, severity, time, its numeric and enumerated facts) and the gateway's state at the time;
 * never a payload's text, the webhook URL or anything from the environment: the body is rebuilt
 * from these fields at delivery, so a file planted in the state directory (the gateway's exec
 * commands can write there) cannot make the supervisor post text of its choosing.
 */
export const SPOOL_FILE = 'supervisor-alert-spool.json';
/** The newest alerts kept; older ones are dropped (a crash loop's alerts say the same thing). */
export const MAX_SPOOLED = 20;
/** A spool longer than this is not one of ours (20 entries are ~8 KB). */
const MAX_SPOOL_BYTES = 64 * 1024;

export interface SpooledAlert {
  readonly alert: Alert;
  readonly gateway: { readonly state: GatewayState; readonly restarts: number; readonly lastExit: ExitSummary | null };
}

const KINDS = {
  crash_loop: true,
  refused: true,
  oom_kill: true,
  restarts: true,
  unresponsive: true,
  channel_unhealthy: true,
  disk_low: true,
  disk_read_only: true,
  update_rolled_back: true,
} as const satisfies Record<AlertKind, true>;
const STATES = { idle: true, starting: true, ready: true, backoff: true, stopping: true, stopped: true, failed: true } as const satisfies Record<GatewayState, true>;
const REASONS: ReadonlySet<unknown> = new Set<ExitSummary['reason']>([...EXIT_OUTCOMES, 'startup-timeout']);
const FACT_KEY = /^[A-Za-z]{1,32}$/;
const FACT_TEXT = /^[A-Za-z0-9._:@-]{0,64}$/;
const SIGNAL = /^SIG[A-Z0-9]{1,10}$/;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function validFacts(value: unknown): Alert['facts'] | null {
  if (!isObject(value)) return null;
  const entries = Object.entries(value);
  if (entries.length > 16) return null;
  for (const [key, fact] of entries) {
    if (!FACT_KEY.test(key)) return null;
    if (fact !== null && !(typeof fact === 'number' && Number.isFinite(fact)) && !(typeof fact === 'string' && FACT_TEXT.test(fact))) return null;
  }
  return value as Alert['facts'];
}

function validExit(value: unknown): ExitSummary | null | undefined {
  if (value === null) return null;
  if (!isObject(value)) return undefined;
  const { code, signal, reason, at } = value;
  if (!(code === null || (typeof code === 'number' && Number.isSafeInteger(code)))) return undefined;
  if (!(signal === null || (typeof signal === 'string' && SIGNAL.test(signal)))) return undefined;
  if (!REASONS.has(reason) || !isTime(at)) return undefined;
  return { code, signal, reason: reason as ExitSummary['reason'], at };
}

/** One entry as read back, or null when anything in it is not what this module writes. */
export function validSpooledAlert(value: unknown): SpooledAlert | null {
  if (!isObject(value) || !isObject(value['alert']) || !isObject(value['gateway'])) return null;
  const { kind, severity, at, facts } = value['alert'];
  const { state, restarts, lastExit } = value['gateway'];
  if (typeof kind !== 'string' || !Object.hasOwn(KINDS, kind)) return null;
  if (severity !== 'critical' && severity !== 'warning') return null;
  const validatedFacts = validFacts(facts);
  const exit = validExit(lastExit);
  if (!isTime(at) || validatedFacts === null || exit === undefined) return null;
  if (typeof state !== 'string' || !Object.hasOwn(STATES, state) || !isCount(restarts)) return null;
  return { alert: { kind: kind as AlertKind, severity, at, facts: validatedFacts }, gateway: { state: state as GatewayState, restarts, lastExit: exit } };
}

/** The spool's text read back: the valid entries (the newest MAX_SPOOLED) and how many were dropped. */
export function parseSpool(text: string): { entries: SpooledAlert[]; dropped: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { entries: [], dropped: 1 };
  }
  if (!Array.isArray(parsed)) return { entries: [], dropped: 1 };
  const entries = parsed.map(validSpooledAlert).filter((entry): entry is SpooledAlert => entry !== null);
  const kept = entries.slice(-MAX_SPOOLED);
  return { entries: kept, dropped: parsed.length - kept.length };
}

/** The spool after adding `added` to `existing`: oldest first, the newest MAX_SPOOLED kept. */
export function mergeSpool(existing: readonly SpooledAlert[], added: readonly SpooledAlert[]): SpooledAlert[] {
  return [...existing, ...added].slice(-MAX_SPOOLED);
}

/** The spool's text, or null when there is none. A symbolic link or anything but a small regular file is not read. */
export async function readSpool(stateDir: string): Promise<string | null> {
  let handle;
  try {
    handle = await open(join(stateDir, SPOOL_FILE), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return '';
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile() || stats.size > MAX_SPOOL_BYTES) return '';
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

export async function removeSpool(stateDir: string): Promise<void> {
  await unlink(join(stateDir, SPOOL_FILE)).catch(() => undefined);
}

/** Whole or absent (src/fs/write-file-atomic.ts), 0600. */
export async function writeSpool(stateDir: string, entries: readonly SpooledAlert[]): Promise<void> {
  await writeFileAtomic(join(stateDir, SPOOL_FILE), `${JSON.stringify(entries)}\n`, { replace: true, mode: 0o600 });
}
