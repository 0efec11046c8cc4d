import { afterEach, describe, expect, it, vi } from 'vitest';
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

describe('SupervisorLogger.observe', () => {
  it.each(['warn', 'error', 'silent'] as const)('sees info events at level %s, which are still not printed', async (level) => {
    const out = captureStdout();
    const log = await createLogger(level, true);
    const seen: Array<[string, number]> = [];
    log.observe((fields, levelValue) => seen.push([String(fields['event']), levelValue]));
    log.logger.info({ event: 'gateway.spawned', gatewayPid: 1 }, 'spawned');
    log.logger.debug({ event: 'gateway.debug_thing' }, 'debug');
    log.logger.info('no event field');
    log.logger.error({ event: 'gateway.refused', code: 78 }, 'refused');
    expect(seen).toEqual([
      ['gateway.spawned', 30],
      ['gateway.refused', 50],
    ]);
    const printed = out.join('');
    expect(printed).not.toContain('spawned');
    expect(printed).not.toContain('no event field');
    if (level === 'silent') expect(printed).toBe('');
    else expect(printed).toContain('refused');
  });

  it('at level info, prints and observes; an observer that throws breaks nothing; unsubscribe works', async () => {
    const out = captureStdout();
    const log = await createLogger('info', true);
    const seen: string[] = [];
    log.observe(() => {
      throw new Error('observer bug');
    });
    const stop = log.observe((fields) => seen.push(String(fields['event'])));
    log.logger.info({ event: 'gateway.ready', sinceSpawnMs: 5 }, 'ready one');
    stop();
    log.logger.info({ event: 'gateway.ready', sinceSpawnMs: 6 }, 'ready two');
    expect(seen).toEqual(['gateway.ready']);
    expect(out.join('')).toContain('ready one');
    expect(out.join('')).toContain('ready two');
  });

  it('observers get the fields before redaction; the printed line is still redacted', async () => {
    const out = captureStdout();
    const log = await createLogger('info', true);
    log.addSecrets(['sekrit-value-123']);
    let observed: unknown;
    log.observe((fields) => (observed = fields['line']));
    log.logger.info({ event: 'gateway.log', line: 'token sekrit-value-123' }, 'line');
    expect(observed).toBe('token sekrit-value-123');
    expect(out.join('')).not.toContain('sekrit-value-123');
  });
});
