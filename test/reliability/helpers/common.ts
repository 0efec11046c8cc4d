import { readFileSync } from 'node:fs';
import { afterEach, expect } from 'vitest';
import { descendantsOf, pollUntil, readProcStrings, runningGroupMembers } from '../../helpers/proc.js';
import { TEST_TOKEN, startSupervisor, type LogRecord, type RunningSupervisor, type StartOptions } from '../../helpers/supervisor.js';

export { TEST_TOKEN };

/** A supervisor of this suite: the harness's, plus the exact time its process exited. */
export interface Supervised extends RunningSupervisor {
  /** Epoch ms of the process's exit event, resolved without waiting for the pipes to close (the harness's `exited` waits for them). */
  readonly exitedAt: Promise<number>;
}

const running: Supervised[] = [];
const cleanups: Array<() => void | Promise<void>> = [];

/**
 * Registers the cleanup of this file: every supervisor started through `start` is SIGKILLed with its
 * gateway group after each test, and its output is checked for the token (none of this suite's
 * scenarios may ever print it, whatever the gateway prints).
 */
export function useSupervisors(): void {
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    const list = running.splice(0);
    for (const sup of list) await sup.kill();
    for (const sup of list) expect(sup.output.filter((line) => line.includes(TEST_TOKEN))).toEqual([]);
  });
}

/** Something to undo after the test (client sockets, a squatter process), before the supervisors are killed. */
export function onCleanup(cleanup: () => void | Promise<void>): void {
  cleanups.push(cleanup);
}

export async function start(options: StartOptions = {}): Promise<Supervised> {
  const sup = await startSupervisor(options);
  const exitedAt = new Promise<number>((resolve) => sup.process.once('exit', () => resolve(Date.now())));
  const supervised: Supervised = Object.assign(sup, { exitedAt });
  running.push(supervised);
  return supervised;
}

/** Sends `signal`; resolves with the exit code and the time from the signal to the process's exit. */
export async function signalAndWait(sup: Supervised, signal: NodeJS.Signals): Promise<{ code: number | null; afterMs: number }> {
  const sentAt = Date.now();
  sup.signal(signal);
  const [exit, at] = await Promise.all([sup.exited, sup.exitedAt]);
  return { code: exit.code, afterMs: at - sentAt };
}

/** A field of /proc/<pid>/status in kB (VmRSS, VmHWM …); null once the process is gone. */
export function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

export function rssBytes(pid: number): number {
  const kb = statusKb(pid, 'VmRSS');
  if (kb === null) throw new Error(`no VmRSS for pid ${pid}`);
  return kb * 1024;
}

export function peakRssBytes(pid: number): number {
  const kb = statusKb(pid, 'VmHWM');
  if (kb === null) throw new Error(`no VmHWM for pid ${pid}`);
  return kb * 1024;
}

/** Samples VmRSS every `intervalMs` until stopped; stop() resolves with the highest sample. */
export function sampleRss(pid: number, intervalMs = 100): { stop(): number } {
  let max = statusKb(pid, 'VmRSS') ?? 0;
  const timer = setInterval(() => {
    max = Math.max(max, statusKb(pid, 'VmRSS') ?? 0);
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(max, statusKb(pid, 'VmRSS') ?? 0) * 1024;
    },
  };
}

/** Asserts that no process of the group runs any more (bounded wait for the kernel to finish the kill). */
export async function expectGroupGone(pgid: number, timeoutMs = 3_000): Promise<void> {
  const gone = await pollUntil(() => runningGroupMembers(pgid).length === 0, timeoutMs);
  expect(gone ? [] : runningGroupMembers(pgid)).toEqual([]);
}

/** The one `supervisor.signal` record of a first signal; asserts there is one for `signal`. */
export function firstSignalRecord(sup: RunningSupervisor, signal: NodeJS.Signals): LogRecord {
  const records = sup.events('supervisor.signal');
  expect(records.length).toBeGreaterThanOrEqual(1);
  const first = records[0]!;
  expect(first).toMatchObject({ level: 'warn', evidence: expect.objectContaining({ signal }) });
  expect(typeof first['probableCause']).toBe('string');
  return first;
}

/** Every command line of the supervisor's process tree (the gateway and what it started included). */
export function descendantCmdlines(rootPid: number): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const pid of [rootPid, ...descendantsOf(rootPid).map((p) => p.pid)]) {
    try {
      found.push({ pid, cmdline: readProcStrings(pid, 'cmdline').join(' ') });
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** Bounded wait for a condition on the collected log (polled; cheap for large logs). */
export async function logCondition(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  if (!(await pollUntil(check, timeoutMs, 20))) throw new Error(`${what} not seen within ${timeoutMs} ms`);
}
