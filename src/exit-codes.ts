import { constants } from 'node:os';

/**
 * The supervisor's exit codes: the one table that `--help`, the README (checked by a test) and the
 * code read. A code that is not here is a bug. The subcommands that pass another program's status
 * through (`openclaw <args>`, `healthcheck`, `audit`) are not this table's: they say so in --help.
 */
export interface ExitCodeSpec {
  /** The code, or `128+n` for the family of codes after a second stop signal n. */
  readonly code: number | '128+n';
  readonly name: string;
  /** What it means, one line (shown by --help and in the README's table). */
  readonly description: string;
}

export const EXIT = {
  /** Stopped gracefully on a signal. */
  ok: 0,
  /** The gateway crash-looped, or the supervisor could not start (e.g. the public port cannot be bound). */
  failed: 1,
  /** Bad input: a setting, flag, command line, token or file the user gave. */
  badInput: 2,
  /** The gateway refused its config or auth, or another gateway owns the state dir (sysexits EX_CONFIG). */
  configRefused: 78,
  /** The gateway command was not found or is not executable. */
  commandNotFound: 127,
} as const;

/** The base of the codes after a second stop signal: 128 + the signal's number, like a shell. */
export const SECOND_SIGNAL_BASE = 128;

/** 128 + the signal's number (os.constants.signals), as a shell reports a process that `signal` ended; null for a signal this platform does not know. */
export function signalExitCode(signal: NodeJS.Signals): number | null {
  const number = (constants.signals as Partial<Record<NodeJS.Signals, number>>)[signal];
  return number === undefined ? null : SECOND_SIGNAL_BASE + number;
}

/** The exit code of a stop forced by a second `signal` (SIGTERM → 143, SIGINT → 130, SIGHUP → 129). */
export function secondSignalExit(signal: NodeJS.Signals): number {
  const code = signalExitCode(signal);
  if (code === null) throw new Error(`no exit code for ${signal}`);
  return code;
}

export const EXIT_CODES: readonly ExitCodeSpec[] = [
  { code: EXIT.ok, name: 'ok', description: 'stopped gracefully on a signal' },
  {
    code: EXIT.failed,
    name: 'failed',
    description: "crash loop (the platform's restart policy takes over) or a start failure such as a public port that cannot be bound",
  },
  { code: EXIT.badInput, name: 'bad-input', description: 'bad input: a setting, flag, command line, token or file; the message names it and what is allowed' },
  {
    code: EXIT.configRefused,
    name: 'config-refused',
    description: 'the gateway refused its config or auth, or another gateway owns the state dir (retrying cannot help)',
  },
  { code: EXIT.commandNotFound, name: 'command-not-found', description: 'gateway command not found or not executable (the message lists the paths tried)' },
  { code: '128+n', name: 'second-signal', description: 'a second stop signal n forced the stop (143 after SIGTERM, 130 after SIGINT)' },
];

/** The table as --help prints it, one line per code. */
export function exitCodeLines(indent = '  '): string[] {
  return EXIT_CODES.map((spec) => `${indent}${String(spec.code).padEnd(6)} ${spec.description}`);
}
