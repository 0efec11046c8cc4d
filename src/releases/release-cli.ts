import { execa } from 'execa';

/** What one bounded run of a command said: its exit code (null when it never ran or was killed), its output. */
export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Why it did not run to its own end: timed out, aborted, or could not start. */
  readonly failure: string | null;
}

/**
 * Runs a command with its output captured, bounded by `timeoutMs` and by `signal` (a stop of the
 * supervisor): execa does the capture, the timeout, the SIGKILL and the error mapping. Never
 * throws: a command that cannot start is a result too.
 */
export async function runBounded(file: string, args: readonly string[], options: { env: Record<string, string>; cwd?: string; timeoutMs: number; signal?: AbortSignal }): Promise<CommandResult> {
  const result = await execa(file, args, {
    env: options.env,
    extendEnv: false,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdin: 'ignore',
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
    ...(options.signal === undefined ? {} : { cancelSignal: options.signal }),
    reject: false,
    stripFinalNewline: true,
    maxBuffer: 16 * 1024 * 1024,
  });
  const failure = result.timedOut
    ? `did not finish within ${options.timeoutMs} ms`
    : result.isCanceled
      ? 'cancelled (the supervisor is stopping)'
      : result.failed && result.exitCode === undefined
        ? (result.originalMessage || result.shortMessage || 'could not start')
        : null;
  return { code: result.exitCode ?? null, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), failure };
}

/** The JSON object a CLI printed on stdout (openclaw prints a banner before it on some paths), or null. */
export function jsonOf(stdout: string): Record<string, unknown> | null {
  const start = stdout.indexOf('{');
  const end = stdout.lastIndexOf('}');
  if (start === -1 || end <= start) return null;
  try {
    const value: unknown = JSON.parse(stdout.slice(start, end + 1));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * What a command said when it failed, for a record: openclaw's own `Reason:` line when it printed
 * one (its last lines are generic hints), else the last non-empty lines.
 */
export function tailOf(text: string, lines = 5): string {
  const kept = text.split('\n').map((line) => line.trimEnd()).filter((line) => line !== '');
  const reason = kept.find((line) => /^\[openclaw\] Reason: /.test(line));
  return reason !== undefined ? reason.replace(/^\[openclaw\] Reason: /, '') : kept.slice(-lines).join('\n');
}
