import { gatewayLineKind, type FoldOutput } from './fold.js';
import { escapeUntrusted } from './untrusted.js';

/**
 * The calm terminal (a TTY, SUPERVISOR_LOG_FIELDS unset, level info or quieter): one short line
 * per record a person needs, so that the screen at ready says where to open, how to get the token
 * and that it is ready, and those lines are not lost among the fields (every record with every
 * field is over a hundred lines by then). JSON off a terminal keeps every record and field;
 * SUPERVISOR_LOG_FIELDS=1 or the debug level brings them back here too.
 */

/** The gateway's own timestamp at the start of each of its lines (openclaw@2026.9.6): the record has one already. */
const GATEWAY_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)\s+/;

/** A relayed gateway line is cut here on the calm terminal: its pairing refusal alone is ~1,100 characters. */
export const GATEWAY_LINE_MAX = 160;

/**
 * Records whose info form is a detail of something the screen says anyway (the exposure and config
 * in effect, listeners, the steps of a stop, a requested exit): shown at warn and above only. The
 * gateway's own info lines are details too (its startup chatter is 16 lines; its log file keeps them).
 */
const DETAILS_AT_INFO = new Set([
  'gateway.log',
  'supervisor.exposure',
  'gateway.config_prepared',
  'supervisor.operations',
  'supervisor.listening',
  'supervisor.stopping',
  'supervisor.drain_started',
  'gateway.exited',
  'gateway.heap_sized',
  'supervisor.privileges_dropped',
]);

/** The one or two fields a person needs that the message does not say already. */
const TAILS: Readonly<Record<string, (record: Record<string, unknown>) => string | null>> = {
  'supervisor.drain_finished': (record) => (typeof record['durationMs'] === 'number' ? `in ${record['durationMs']} ms` : null),
};

const LEVELS: Readonly<Record<string, { label: string; color: string; value: number }>> = {
  trace: { label: 'TRACE', color: '\u001b[90m', value: 10 },
  debug: { label: 'DEBUG', color: '\u001b[34m', value: 20 },
  info: { label: 'INFO', color: '\u001b[32m', value: 30 },
  warn: { label: 'WARN', color: '\u001b[33m', value: 40 },
  error: { label: 'ERROR', color: '\u001b[31m', value: 50 },
  fatal: { label: 'FATAL', color: '\u001b[41m', value: 60 },
};

function levelOf(record: Record<string, unknown>): { label: string; color: string; value: number } {
  const level = record['level'];
  return LEVELS[String(level)] ?? { label: String(level ?? 'INFO').toUpperCase(), color: '', value: 30 };
}

function levelLabel(level: { label: string; color: string }, colorize: boolean): string {
  return colorize && level.color !== '' ? `${level.color}${level.label}\u001b[39m\u001b[49m` : level.label;
}

/** HH:MM:SS in local time: a person reads the clock; the JSON keeps the milliseconds. */
export function clockSeconds(time: unknown): string {
  const date = new Date(typeof time === 'string' || typeof time === 'number' ? time : Number.NaN);
  if (Number.isNaN(date.getTime())) return String(time ?? '');
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

export interface CalmLine {
  /** The terminal line, without its newline. */
  readonly text: string;
  /** The line without its time, for a fold report. */
  readonly body: string;
  /** Lines of the same kind are folded (fold.ts); null: never folded. */
  readonly kind: string | null;
}

/**
 * A record as one calm terminal line, or null when it is a detail (DETAILS_AT_INFO at info or
 * below). Everything shown is escaped: the gateway's lines and some messages carry client-chosen
 * text (a Host, a User-Agent) that a terminal would act on.
 */
export function calmLine(record: Record<string, unknown>, colorize: boolean): CalmLine | null {
  const level = levelOf(record);
  const event = typeof record['event'] === 'string' ? record['event'] : null;
  if (event !== null && DETAILS_AT_INFO.has(event) && level.value <= LEVELS['info']!.value) return null;
  if (event === 'gateway.log') {
    const raw = String(record['line'] ?? record['msg'] ?? '').replace(GATEWAY_TIMESTAMP, '');
    const tagged = raw.startsWith('[gateway]') ? raw : `[gateway] ${raw}`;
    const body = `${levelLabel(level, colorize)}: ${escapeUntrusted(tagged, GATEWAY_LINE_MAX)}`;
    return { text: `[${clockSeconds(record['time'])}] ${body}`, body, kind: gatewayLineKind(level.label, raw) };
  }
  const message = escapeUntrusted(String(record['msg'] ?? ''), Number.POSITIVE_INFINITY);
  const tail = (event === null ? null : TAILS[event]?.(record)) ?? errorTail(record, message);
  const body = `${levelLabel(level, colorize)}: ${message}${tail === null ? '' : ` (${escapeUntrusted(tail, GATEWAY_LINE_MAX)})`}`;
  return { text: `[${clockSeconds(record['time'])}] ${body}`, body, kind: null };
}

/** pino's `err` field: its message, when the record's own message does not say it. */
function errorTail(record: Record<string, unknown>, message: string): string | null {
  const err = record['err'];
  if (typeof err !== 'object' || err === null) return null;
  const text = (err as { message?: unknown }).message;
  return typeof text === 'string' && text !== '' && !message.includes(text) ? text : null;
}

/** How much of the folded line a report repeats: enough to recognise it, short enough for one line. */
const REPORT_SAMPLE = 90;

/** A fold report as a terminal line: the count, since when, and the start of the line it counts (its level and text). */
export function repeatedLine(report: Extract<FoldOutput, { type: 'repeated' }>, now: number): string {
  const short = report.sample.length > REPORT_SAMPLE ? `${report.sample.slice(0, REPORT_SAMPLE)}…` : report.sample;
  return `[${clockSeconds(now)}] ${short} … repeated ${report.count} more time${report.count === 1 ? '' : 's'} since ${clockSeconds(report.since)}`;
}
