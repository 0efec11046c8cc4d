import { existsSync } from 'node:fs';
import { resolveExecutable } from './executables.js';

const MARKER = 'SUPERVISOR_UNDER_REAPER';

/**
 * V8 flags the supervisor's own Node gets at the hand-over (heap sizes are fixed when the heap is
 * made: v8.setFlagsFromString cannot change them later).
 * A 1 MB semi-space (V8's default on Node 24: 16 MB) collects forwarded chunks young: after 1000
 * clients that never read a 1 MB body, RSS 60 s later ~145 MB instead of ~190 MB, because glibc
 * keeps the peak of freed Buffers in its arena for good (bench/burst-memory.mjs, BENCHMARKS.md).
 */
export const SUPERVISOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/** The supervisor's Node options for the re-executed process: its own, plus each of ours it does not set itself. */
export function nodeArgsFor(execArgv: readonly string[]): string[] {
  const named = (arg: string): string => arg.split('=')[0]!.replaceAll('_', '-');
  const own = new Set(execArgv.map(named));
  return [...execArgv, ...SUPERVISOR_NODE_FLAGS.filter((flag) => !own.has(named(flag)))];
}

/** Debian's libjemalloc2 (the image installs it), by architecture. */
export const JEMALLOC_LIBRARIES: readonly string[] = ['/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2'];
/**
 * Freed pages go back to the system within ~1 s, by a background thread: after a burst of 1000
 * clients that never read a 1 MB body, RSS 60 s later 98.6/98.7 MB instead of 136/146 MB with
 * glibc, whose main arena keeps the burst's freed 64 KB socket reads for good (Node cannot call
 * malloc_trim). Measured cost per forwarded response: +2.5 % at 1 MB, +10–14 % at 1 KB
 * (bench/gc-remedy.mjs --flags=none,jemalloc, 4 interleaved rounds; BENCHMARKS.md, row 10).
 */
export const JEMALLOC_CONF = 'background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0';
/** Names the hand-over added for the supervisor alone: the gateway's environment drops them (child-env.ts). */
export const PRELOADED_MARKER = 'SUPERVISOR_PRELOADED';

/**
 * The environment the supervisor's own Node gets at the hand-over for its allocator: jemalloc when
 * the library is there and LD_PRELOAD is not set (set, even empty, it is the user's choice). Pure
 * but for `exists`.
 */
export function supervisorAllocatorEnv(env: Readonly<Record<string, string | undefined>>, exists: (path: string) => boolean = existsSync): Record<string, string> {
  if (env['LD_PRELOAD'] !== undefined) return {};
  const library = JEMALLOC_LIBRARIES.find(exists);
  if (library === undefined) return {};
  const added = env['MALLOC_CONF'] === undefined ? ['LD_PRELOAD', 'MALLOC_CONF'] : ['LD_PRELOAD'];
  return { LD_PRELOAD: library, ...(env['MALLOC_CONF'] === undefined ? { MALLOC_CONF: JEMALLOC_CONF } : {}), [PRELOADED_MARKER]: added.join(',') };
}

export type ReaperStatus = 'not-pid1' | 'under-reaper' | 'no-tini' | 'no-execve';

/**
 * As PID 1, hand PID 1 to tini and continue as its child: tini reaps every orphan that the
 * gateway's descendants leave behind (Node reaps only the children it spawned itself) and forwards
 * signals to us. execve keeps the PID, so the platform still signals PID 1 (now tini), and our
 * exit code becomes the container's. Returns only when it did not re-execute.
 */
export function handOverPid1(env: NodeJS.ProcessEnv = process.env): ReaperStatus {
  if (env[MARKER] === '1') return 'under-reaper';
  if (process.pid !== 1) return 'not-pid1';
  const tini = resolveExecutable('tini', env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', process.cwd()).found;
  if (tini === null) return 'no-tini';
  const execve = (process as unknown as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (typeof execve !== 'function') return 'no-execve';
  return execve.call(process, tini, [tini, '--', process.execPath, ...nodeArgsFor(process.execArgv), ...process.argv.slice(1)], { ...env, ...supervisorAllocatorEnv(env), [MARKER]: '1' });
}
