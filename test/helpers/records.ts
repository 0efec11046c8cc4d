import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { LogRecord } from './supervisor.js';

/** The record's pino timestamp (ISO, ms precision) in epoch ms. */
export function timeOf(record: LogRecord): number {
  const at = typeof record['time'] === 'string' ? Date.parse(record['time']) : Number.NaN;
  if (Number.isNaN(at)) throw new Error(`log record without a time: ${JSON.stringify(record)}`);
  return at;
}

/** The gatewayPid of a record, asserted to be a positive number. */
export function pidOf(record: LogRecord): number {
  const pid = record['gatewayPid'];
  if (typeof pid !== 'number' || pid <= 0) throw new Error(`log record without a gatewayPid: ${JSON.stringify(record)}`);
  return pid;
}

/** A pino logger at trace level that keeps every record it writes, parsed, for in-process tests. */
export function recordingLogger(): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      records.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), records };
}
