import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { EXIT, signalExitCode } from '../exit-codes.js';

/** What a signal sent to us means for the CLI: passed on to its whole process group. */
const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGWINCH'];

/**
 * Spawns the openclaw CLI in a session of its own (setsid). Run from root's shell after the drop to
 * the unprivileged user, a CLI sharing root's controlling terminal could push input into it
 * (TIOCSTI, which root's shell then runs) or open /dev/tty; in its own session the terminal is no
 * controlling terminal of it (TIOCSTI: EPERM) while stdio still reads and writes it. The terminal's
 * Ctrl-C (and resize) then reach only our process group: they, and SIGTERM/SIGHUP sent to us, are
 * passed to the CLI's group until it exits.
 */
export function spawnInOwnSession(file: string, args: readonly string[], env: Record<string, string>, stdio: StdioOptions): ChildProcess {
  const child = spawn(file, [...args], { env, stdio, detached: true });
  const forward = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // the group is gone already: its exit is on its way
    }
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  const stop = (): void => {
    for (const signal of FORWARDED) process.off(signal, forward);
  };
  child.once('exit', stop);
  child.once('error', stop);
  return child;
}

/** A shell's exit code for a child's end: its code, else 128 + the signal's number. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return (signal === null ? null : signalExitCode(signal)) ?? EXIT.failed;
}
