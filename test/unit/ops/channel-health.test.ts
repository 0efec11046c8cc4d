import { afterEach, describe, expect, it } from 'vitest';
import { diffFailing, fetchReadiness, parseReadiness, watchChannelHealth, type FailingDiff, type ReadinessAnswer } from '../../../src/ops/channel-health.js';
import { loopbackServers } from '../../helpers/loopback-servers.js';

// Bodies as the real gateway (openclaw@2026.9.6) answered a loopback caller: a Telegram account without network.
const REAL_READY = '{"ready":true,"failing":[],"uptimeMs":8422,"eventLoop":{"degraded":true,"degradedSinceMs":5149,"reasons":["event_loop_delay","event_loop_utilization"],"intervalMs":1355.3,"delayP99Ms":1097.9,"delayMaxMs":1097.9,"utilization":1,"cpuCoreRatio":0.344,"cpuBreakdown":{"mainThreadCoreRatio":0.301,"hostUtilization":1,"hostCpuCount":2}}}';
const REAL_FAILING = '{"ready":false,"failing":["telegram"],"uptimeMs":173382,"eventLoop":{"degraded":false,"degradedSinceMs":null,"reasons":[],"intervalMs":1015.18,"delayP99Ms":25.5,"delayMaxMs":25.5,"utilization":0.005,"cpuCoreRatio":0.007,"cpuBreakdown":{"mainThreadCoreRatio":0.007,"hostUtilization":1,"hostCpuCount":2,"workerCoreRatio":0,"otherThreadsCoreRatio":0}}}';

describe('parseReadiness', () => {
  it.each<[string, number, string, string[] | null]>([
    ['the real ready answer', 200, REAL_READY, []],
    ['the real failing answer', 503, REAL_FAILING, ['telegram']],
    ['several, sorted, deduplicated', 503, '{"ready":false,"failing":["whatsapp","agent-database:main","whatsapp"]}', ['agent-database:main', 'whatsapp']],
    ['ready without a failing list (a remote caller\'s shape)', 200, '{"ready":true}', []],
    ['not ready without details: nothing concluded', 503, '{"ready":false}', null],
    ['the drain is no channel\'s fault', 503, '{"ready":false,"failing":["gateway-draining"]}', []],
    ['a status that contradicts ready', 200, '{"ready":false,"failing":["telegram"]}', null],
    ['another status', 401, '{"ready":false,"failing":["telegram"]}', null],
    ['no JSON', 503, '<html>bad gateway</html>', null],
    ['an array', 200, '[]', null],
    ['failing is no array', 503, '{"ready":false,"failing":"telegram"}', null],
    ['odd names are _other (control characters, a label-breaking quote, too long, not text)', 503, JSON.stringify({ ready: false, failing: ['tele\u001bgram', 'a"b', 'x'.repeat(65), 7, 'slack'] }), ['_other', 'slack']],
  ])('%s', (_name, status, body, expected) => {
    expect(parseReadiness(status, body)).toEqual(expected);
  });

  it('looks at 64 entries at most', () => {
    const failing = Array.from({ length: 500 }, (_, i) => `channel${i}`);
    expect(parseReadiness(503, JSON.stringify({ ready: false, failing }))).toHaveLength(64);
  });
});

describe('diffFailing', () => {
  it.each<[string, string[], string[], FailingDiff]>([
    ['nothing to nothing', [], [], { unhealthy: [], recovered: [] }],
    ['one fails', [], ['telegram'], { unhealthy: ['telegram'], recovered: [] }],
    ['it recovers', ['telegram'], [], { unhealthy: [], recovered: ['telegram'] }],
    ['one swaps for another', ['telegram', 'slack'], ['slack', 'discord'], { unhealthy: ['discord'], recovered: ['telegram'] }],
    ['same set', ['a', 'b'], ['b', 'a'], { unhealthy: [], recovered: [] }],
  ])('%s', (_name, previous, current, expected) => {
    expect(diffFailing(new Set(previous), new Set(current))).toEqual(expected);
  });
});

describe('watchChannelHealth', () => {
  it('reports each change against the set it started from, skips unreadable answers, stops on abort', async () => {
    const answers: ReadinessAnswer[] = [
      { status: 503, body: REAL_FAILING },
      null, // no answer: liveness's business, nothing concluded
      { status: 503, body: REAL_FAILING },
      { status: 502, body: 'x' },
      { status: 200, body: REAL_READY },
    ];
    const abort = new AbortController();
    const changes: Array<{ diff: FailingDiff; failing: string[] }> = [];
    await watchChannelHealth(1, { intervalMs: 1, timeoutMs: 100 }, abort.signal, new Set(['slack']), (diff, failing) => changes.push({ diff, failing: [...failing] }), async () => {
      if (answers.length === 0) abort.abort();
      return answers.shift() ?? null;
    });
    expect(changes).toEqual([
      { diff: { unhealthy: ['telegram'], recovered: ['slack'] }, failing: ['telegram'] },
      { diff: { unhealthy: [], recovered: ['telegram'] }, failing: [] },
    ]);
  });
});

describe('fetchReadiness', () => {
  const { serve, closeAll } = loopbackServers();
  afterEach(closeAll);

  it('GETs /readyz and returns the status and the body', async () => {
    const port = await serve((req, res) => {
      res.writeHead(req.url === '/readyz' ? 503 : 404);
      res.end(REAL_FAILING);
    });
    expect(await fetchReadiness(port, 2_000)).toEqual({ status: 503, body: REAL_FAILING });
  });

  it('gives up on a gateway that does not answer within the timeout, and on a body too large', async () => {
    const hung = await serve(() => undefined);
    const started = Date.now();
    expect(await fetchReadiness(hung, 200)).toBeNull();
    expect(Date.now() - started).toBeLessThan(2_000);
    const huge = await serve((_req, res) => res.end(Buffer.alloc(100 * 1024, 0x20)));
    expect(await fetchReadiness(huge, 2_000)).toBeNull();
  });
});
