import pino, { type DestinationStream, type Logger } from 'pino';
import { createRedactor } from './redact.js';
import type { LogLevel } from '../config/settings.js';

export type { Logger };

export interface SupervisorLogger {
  readonly logger: Logger;
  /** Every later line has these secrets replaced, whichever field or message they hide in. */
  addSecrets(secrets: readonly string[]): void;
  /** Writes out what is buffered; call before exiting. */
  flush(): void;
}

/**
 * pino JSON lines on stdout, pretty when stdout is a terminal. The destination is asynchronous so a
 * slow stdout reader (a log shipper, a full pipe) never stalls the front door's event loop.
 */
export async function createLogger(level: LogLevel, pretty: boolean = process.stdout.isTTY === true): Promise<SupervisorLogger> {
  const secrets: string[] = [];
  let redact = createRedactor(secrets);
  let destination: DestinationStream & { flushSync?: () => void };
  if (pretty) {
    const { prettyFactory } = await import('pino-pretty');
    const { prettyGatewayLine } = await import('./pretty.js');
    const prettify = prettyFactory({ colorize: true, ignore: 'pid,hostname' });
    // Relayed gateway lines stay one line each; everything else as pino-pretty shows it.
    destination = {
      write(line: string) {
        let record: Record<string, unknown>;
        try {
          record = JSON.parse(line) as Record<string, unknown>;
        } catch {
          process.stdout.write(line);
          return;
        }
        process.stdout.write(prettyGatewayLine(record, true) ?? prettify(record));
      },
    };
  } else {
    destination = pino.destination({ dest: 1, sync: false, minLength: 0 });
  }
  const logger = pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: { streamWrite: (line) => redact(line) },
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
