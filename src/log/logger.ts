import pino, { type DestinationStream, type Logger } from 'pino';
import { createRedactor } from './redact.js';
import { terminalSafeJsonText } from './untrusted.js';
import type { LogLevel } from '../config/settings.js';

export type { Logger };

const LEVEL_VALUES: Readonly<Record<LogLevel, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Number.POSITIVE_INFINITY };

export interface SupervisorLogger {
  readonly logger: Logger;
  /** Every later line has these secrets replaced, whichever field or message they hide in. */
  addSecrets(secrets: readonly string[]): void;
  /** Writes out what is buffered; call before exiting. */
  flush(): void;
}

export interface TerminalOptions {
  /** SUPERVISOR_LOG_FIELDS: on a terminal, every record with all its fields (as the debug level shows them). */
  readonly fields?: boolean;
}

/**
 * pino JSON lines on stdout; on a terminal, for a person: one calm line per record that matters
 * (terminal.ts, repeated gateway warnings folded), or every record with its fields when asked
 * (SUPERVISOR_LOG_FIELDS, or the debug and trace levels). The JSON destination is asynchronous so
 * a slow stdout reader (a log shipper, a full pipe) never stalls the front door's event loop.
 */
export async function createLogger(level: LogLevel, pretty: boolean = process.stdout.isTTY === true, terminal: TerminalOptions = {}): Promise<SupervisorLogger> {
  const secrets: string[] = [];
  let redact = createRedactor(secrets);
  let destination: DestinationStream & { flushSync?: () => void };
  if (pretty && (terminal.fields === true || LEVEL_VALUES[level] < LEVEL_VALUES.info)) {
    destination = await fieldsDestination();
  } else if (pretty) {
    destination = await calmDestination();
  } else {
    destination = pino.destination({ dest: 1, sync: false, minLength: 0 });
  }
  const logger = pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        // One sink for every line: secrets out, and what JSON leaves raw that a terminal acts on
        // (C1, bidi and invisible characters of a client's text) escaped.
        streamWrite: (line) => terminalSafeJsonText(redact(line)),
      },
    },
    destination,
  );
  return {
    logger,
    addSecrets(more) {
      secrets.push(...more);
      redact = createRedactor(secrets);
    },
    flush() {
      try {
        destination.flushSync?.();
      } catch {
        // stdout is gone (closed pipe): nothing left to write to.
      }
    },
  };
}

/** A line pino wrote, as its record; null for a line that is not JSON (written as it is). */
function parseRecord(line: string): Record<string, unknown> | null {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    process.stdout.write(line);
    return null;
  }
}

/** Every record with its fields (pino-pretty), each relayed gateway line as one line. */
async function fieldsDestination(): Promise<DestinationStream> {
  const { prettyFactory } = await import('pino-pretty');
  const { escapeRecordStrings, prettyGatewayLine } = await import('./pretty.js');
  const prettify = prettyFactory({ colorize: true, ignore: 'pid,hostname' });
  return {
    write(line: string) {
      const record = parseRecord(line);
      if (record !== null) process.stdout.write(prettyGatewayLine(record, true) ?? prettify(escapeRecordStrings(record) as Record<string, unknown>));
    },
  };
}

/** One calm line per record that matters; the counts of folded lines come out before the next other line and at the end. */
async function calmDestination(): Promise<DestinationStream & { flushSync: () => void }> {
  const { calmLine, repeatedLine } = await import('./terminal.js');
  const { EMPTY_FOLD, foldStep } = await import('./fold.js');
  let fold = EMPTY_FOLD;
  const step = (input: Parameters<typeof foldStep>[1]): void => {
    const next = foldStep(fold, input);
    fold = next.state;
    for (const out of next.out) process.stdout.write(`${out.type === 'line' ? out.text : repeatedLine(out, input.at)}\n`);
  };
  return {
    write(line: string) {
      const record = parseRecord(line);
      const shown = record === null ? null : calmLine(record, true);
      if (shown === null) return;
      const at = Date.parse(String(record?.['time']));
      step({ type: 'line', kind: shown.kind, text: shown.text, sample: shown.body, at: Number.isNaN(at) ? Date.now() : at });
    },
    flushSync() {
      step({ type: 'flush', at: Date.now() });
    },
  };
}
