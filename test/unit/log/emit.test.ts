import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { emit, subscribe } from '../../../src/log/emit.js';
import { EVENT_LEVELS, EVENT_NAMES, type SupervisorEvent } from '../../../src/log/events.js';
import { createLogger } from '../../../src/log/logger.js';

afterEach(() => vi.restoreAllMocks());

/** The terminal (pretty) destination writes through process.stdout.write: capture it. */
function captureStdout(): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return lines;
}

/** A pino logger writing its JSON lines into an array, without time and pid. */
function jsonLogger(level: pino.LevelWithSilent = 'info'): { logger: pino.Logger; records: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const logger = pino({ level, base: null, timestamp: false }, { write: (line: string) => void lines.push(line) });
  return { logger, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('emit', () => {
  it('writes the record the call sites always wrote: event first, then the fields in their order, then the message', () => {
    const { logger, records } = jsonLogger();
    emit(logger, 'gateway.spawned', { gatewayPid: 12, command: ['openclaw', 'gateway'], spawns: 1 }, 'gateway spawned (pid 12)');
    emit(logger, 'supervisor.no_ipv6', {}, 'no IPv6');
    expect(records()).toEqual([
      { level: 30, event: 'gateway.spawned', gatewayPid: 12, command: ['openclaw', 'gateway'], spawns: 1, msg: 'gateway spawned (pid 12)' },
      { level: 40, event: 'supervisor.no_ipv6', msg: 'no IPv6' },
    ]);
    expect(Object.keys(records()[0]!)).toEqual(['level', 'event', 'gatewayPid', 'command', 'spawns', 'msg']);
  });

  it('writes an event of several levels at the one its call site chooses', () => {
    const { logger, records } = jsonLogger();
    const fields = { gatewayPid: 3, code: 0, signal: null, outcome: 'requested-stop', wasReady: true, uptimeMs: 5 } as const;
    emit(logger, 'gateway.exited', fields, 'gateway exited', 'info');
    emit(logger, 'gateway.exited', { ...fields, outcome: 'failure', code: 1 }, 'gateway exited', 'error');
    expect(records().map((record) => record['level'])).toEqual([30, 50]);
  });

  it('hands every event to the listeners whatever the level, and prints only what the level lets through', () => {
    const { logger, records } = jsonLogger('warn');
    const seen: SupervisorEvent[] = [];
    subscribe(logger, (event) => seen.push(event));
    emit(logger, 'gateway.ready', { gatewayPid: 3, sinceSpawnMs: 5 }, 'ready');
    emit(logger, 'gateway.log', { source: 'gateway', stream: 'stdout', line: 'chatter' }, 'chatter', 'debug');
    emit(logger, 'gateway.refused', { code: 78, stderrTail: [] }, 'refused');
    expect(seen).toEqual([
      { name: 'gateway.ready', fields: { gatewayPid: 3, sinceSpawnMs: 5 } },
      { name: 'gateway.log', fields: { source: 'gateway', stream: 'stdout', line: 'chatter' } },
      { name: 'gateway.refused', fields: { code: 78, stderrTail: [] } },
    ]);
    expect(records().map((record) => record['event'])).toEqual(['gateway.refused']);
  });

  it('a listener that throws costs neither the record nor the other listeners; unsubscribe works; loggers do not hear each other', () => {
    const { logger, records } = jsonLogger();
    const other = jsonLogger();
    const seen: string[] = [];
    subscribe(logger, () => {
      throw new Error('listener bug');
    });
    const stop = subscribe(logger, (event) => seen.push(event.name));
    subscribe(other.logger, () => seen.push('the other logger'));
    emit(logger, 'supervisor.stopping', { signal: 'SIGTERM', drainTimeoutMs: 1 }, 'stopping one');
    stop();
    emit(logger, 'supervisor.stopping', { signal: 'SIGTERM', drainTimeoutMs: 1 }, 'stopping two');
    expect(seen).toEqual(['supervisor.stopping']);
    expect(records().map((record) => record['msg'])).toEqual(['stopping one', 'stopping two']);
  });
});

describe('emit through the supervisor logger', () => {
  it.each(['warn', 'error', 'silent'] as const)('at level %s, listeners get the info events, which are still not printed', async (level) => {
    const out = captureStdout();
    const log = await createLogger(level, true);
    const seen: string[] = [];
    subscribe(log.logger, (event) => seen.push(event.name));
    emit(log.logger, 'gateway.spawned', { gatewayPid: 1, command: ['x'], spawns: 1 }, 'spawned');
    emit(log.logger, 'gateway.refused', { code: 78, stderrTail: [] }, 'refused');
    expect(seen).toEqual(['gateway.spawned', 'gateway.refused']);
    const printed = out.join('');
    expect(printed).not.toContain('spawned');
    if (level === 'silent') expect(printed).toBe('');
    else expect(printed).toContain('refused');
  });

  it('listeners get the fields before redaction; the printed line is still redacted', async () => {
    const out = captureStdout();
    const log = await createLogger('info', true);
    log.addSecrets(['sekrit-value-123']);
    let observed: unknown;
    subscribe(log.logger, (event) => (observed = event.name === 'gateway.log' ? event.fields.line : undefined));
    emit(log.logger, 'gateway.log', { source: 'gateway', stream: 'stderr', line: 'token sekrit-value-123' }, 'token sekrit-value-123', 'warn');
    expect(observed).toBe('token sekrit-value-123');
    expect(out.join('')).toContain('token');
    expect(out.join('')).not.toContain('sekrit-value-123');
  });
});

describe('the catalogue', () => {
  it('names every event <area>.<name>, with at least one level', () => {
    for (const name of EVENT_NAMES) {
      expect(name).toMatch(/^(supervisor|gateway|front_door|ops)\.[a-z0-9_]+$/);
      expect(EVENT_LEVELS[name].length).toBeGreaterThan(0);
    }
  });
});
