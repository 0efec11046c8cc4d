import { spawn } from 'node:child_process';
import { CLI } from './supervisor.js';

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  /** True when it still ran at `timeoutMs` and was SIGKILLed. */
  readonly timedOut: boolean;
}

/**
 * Runs `node dist/cli.js ...args` with exactly `env` and collects its output. Bounded: still running
 * at `timeoutMs` (the input was wrongly accepted), it gets SIGTERM (so that it stops its gateway),
 * then SIGKILL 3 s later.
 */
export function runCli(args: readonly string[], env: Record<string, string | undefined>, timeoutMs = 10_000): Promise<CliResult> {
  const startedAt = Date.now();
  const cleanEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) cleanEnv[key] = value;
  const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  }, timeoutMs);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      resolve({ code, signal, stdout, stderr, durationMs: Date.now() - startedAt, timedOut });
    });
  });
}
