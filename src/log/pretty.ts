import { escapeUntrusted } from './untrusted.js';

/** The gateway's own timestamp at the start of each of its lines (openclaw@2026.9.6): the record has one already. */
const GATEWAY_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)\s+/;

const LEVELS: Record<string, { label: string; color: string }> = {
  trace: { label: 'TRACE', color: '\u001b[90m' },
  debug: { label: 'DEBUG', color: '\u001b[34m' },
  info: { label: 'INFO', color: '\u001b[32m' },
  warn: { label: 'WARN', color: '\u001b[33m' },
  error: { label: 'ERROR', color: '\u001b[31m' },
  fatal: { label: 'FATAL', color: '\u001b[41m' },
};

/**
 * One terminal line for a relayed gateway line: `[time] LEVEL: [gateway] …`, instead of pino-pretty's
 * message line plus one line per field. Null for every other record (pino-pretty formats those).
 */
export function prettyGatewayLine(record: Record<string, unknown>, colorize: boolean): string | null {
  if (record['event'] !== 'gateway.log') return null;
  // The gateway's lines carry client-chosen text (Host, User-Agent): a terminal must not act on it.
  const text = escapeUntrusted(String(record['line'] ?? record['msg'] ?? '').replace(GATEWAY_TIMESTAMP, ''), Number.POSITIVE_INFINITY);
  const level = LEVELS[String(record['level'])] ?? { label: String(record['level'] ?? 'INFO').toUpperCase(), color: '' };
  const label = colorize && level.color !== '' ? `${level.color}${level.label}\u001b[39m\u001b[49m` : level.label;
  const tagged = text.startsWith('[gateway]') ? text : `[gateway] ${text}`;
  return `[${clockTime(record['time'])}] ${label}: ${tagged}\n`;
}

/** HH:MM:SS.mmm in local time, as pino-pretty shows the other records. */
function clockTime(time: unknown): string {
  const date = new Date(typeof time === 'string' || typeof time === 'number' ? time : Number.NaN);
  if (Number.isNaN(date.getTime())) return String(time ?? '');
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/**
 * The record with every string in it escaped (escapeUntrusted, unbounded), for pino-pretty: JSON
 * escapes control characters, but pino-pretty prints strings raw to the terminal.
 */
export function escapeRecordStrings(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return escapeUntrusted(value, Number.POSITIVE_INFINITY);
  if (depth > 8 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => escapeRecordStrings(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      escapeUntrusted(key, Number.POSITIVE_INFINITY),
      // A stack trace keeps its line breaks (each line escaped): one line would be unreadable.
      key === 'stack' && typeof item === 'string' ? item.split('\n').map((line) => escapeUntrusted(line, Number.POSITIVE_INFINITY)).join('\n') : escapeRecordStrings(item, depth + 1),
    ]),
  );
}
