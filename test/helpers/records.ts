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
