import http from 'node:http';
import { Readable } from 'node:stream';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { delay, within } from '../helpers/front-door-clients.js';
import { pidOf } from '../helpers/records.js';
import { onCleanup, peakRssBytes, rssBytes, sampleRss, start, useSupervisors, type Supervised } from './helpers/common.js';
import { mb, scenario, type Figures } from './helpers/figures.js';

useSupervisors();

const TOTAL = 200 * 1024 * 1024;
/** What the supervisor may grow by while 200 MB pass through it (it must stream, not buffer). */
const BOUND_BYTES = 100 * 1024 * 1024;
/** How long the client stops reading: time enough for an unbounded proxy to buffer it all. */
const PAUSE_MS = 2_000;

/** Starts a supervisor for one transfer and measures its memory around it. */
async function measured(fig: Figures, transfer: (sup: Supervised, endOfPause: () => void) => Promise<void>): Promise<void> {
  const sup = await start();
  const gatewayPid = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));
  const pid = sup.process.pid!;
  // A warm-up request so that the baseline includes a used HTTP path, not a cold one.
  await new Promise<void>((resolve, reject) => http.get(sup.url('/bytes?n=65536'), (res) => res.resume().on('end', resolve)).on('error', reject));
  const before = rssBytes(pid);
  const sampler = sampleRss(pid, 50);
  const startedAt = Date.now();
  await transfer(sup, () => fig.set('supervisorRssAtEndOfPauseMb', mb(rssBytes(pid))));
  const sampledMax = sampler.stop();
  const peak = peakRssBytes(pid);
  const growth = Math.max(sampledMax, peak) - before;
  fig.set('supervisorRssBeforeMb', mb(before));
  fig.set('supervisorRssMaxSampledMb', mb(sampledMax));
  fig.set('supervisorRssPeakMb', mb(peak));
  fig.set('supervisorGrowthMb', mb(growth));
  fig.set('transferMs', Date.now() - startedAt);
  fig.set('transferredMb', TOTAL / (1024 * 1024));
  expect(growth).toBeLessThan(BOUND_BYTES);
  // The gateway and the supervisor are still the same, serving.
  expect(sup.events('gateway.exited')).toHaveLength(0);
  expect(sup.events('gateway.ready').map(pidOf)).toEqual([gatewayPid]);
}

describe('backpressure: slow clients and a stalled gateway', () => {
  it('HTTP download of 200 MB to a client that stops reading for 2 s: streamed, complete, supervisor memory bounded', async () => {
    const fig = scenario('backpressure.http-download', 'backpressure');
    await measured(fig, async (sup, endOfPause) => {
      const received = await within(
        new Promise<{ bytes: number; duringPause: number }>((resolve, reject) => {
          const req = http.get({ host: '127.0.0.1', port: sup.port, path: `/bytes?n=${TOTAL}`, agent: false }, (res) => {
            expect(res.statusCode).toBe(200);
            expect(Number(res.headers['content-length'])).toBe(TOTAL);
            let bytes = 0;
            res.on('data', (chunk: Buffer) => (bytes += chunk.length));
            res.pause();
            // Not reading: the gateway keeps writing until every buffer on the way is full.
            void delay(PAUSE_MS).then(() => {
              endOfPause();
              const duringPause = bytes;
              res.on('end', () => resolve({ bytes, duringPause }));
              res.resume();
            });
            res.on('error', reject);
          });
          req.on('error', reject);
          onCleanup(() => void req.destroy());
        }),
        60_000,
        '200 MB download',
      );
      fig.set('bytesReadDuringPause', received.duringPause);
      fig.lost('missingBytes', TOTAL - received.bytes);
      expect(received.bytes).toBe(TOTAL);
    });
  });

  it('HTTP upload of 200 MB into /echo while the client does not read the echo: the gateway stops reading, the upload stalls, nothing piles up', async () => {
    const fig = scenario('backpressure.http-upload-stalled-gateway', 'backpressure');
    await measured(fig, async (sup, endOfPause) => {
      const chunk = Buffer.alloc(64 * 1024, 0x62);
      let uploaded = 0;
      const body = new Readable({
        read() {
          if (uploaded >= TOTAL) return void this.push(null);
          uploaded += chunk.length;
          this.push(chunk);
        },
      });
      const result = await within(
        new Promise<{ echoed: number; uploadedDuringPause: number }>((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port: sup.port, path: '/echo', method: 'POST', agent: false, headers: { 'content-type': 'application/octet-stream', 'content-length': TOTAL } });
          onCleanup(() => void req.destroy());
          req.on('error', reject);
          req.on('response', (res) => {
            let echoed = 0;
            res.on('data', (data: Buffer) => (echoed += data.length));
            res.pause();
            // The echo is not read: the gateway's writes block, so it stops reading the upload,
            // so the supervisor must stop reading it too.
            void delay(PAUSE_MS).then(() => {
              endOfPause();
              const uploadedDuringPause = uploaded;
              res.on('end', () => resolve({ echoed, uploadedDuringPause }));
              res.resume();
            });
            res.on('error', reject);
          });
          body.pipe(req);
        }),
        90_000,
        '200 MB echo',
      );
      fig.set('uploadedBeforeResumeMb', mb(result.uploadedDuringPause));
      fig.lost('missingBytes', TOTAL - result.echoed);
      expect(result.echoed).toBe(TOTAL);
      // The upload stalled while the echo was not read (it did not all go into someone's buffer).
      expect(result.uploadedDuringPause).toBeLessThan(TOTAL / 2);
    });
  });

  it('WebSocket: 200 MB echoed to a client that pauses its socket for 2 s: every byte arrives, supervisor memory bounded', async () => {
    const fig = scenario('backpressure.websocket', 'backpressure');
    await measured(fig, async (sup, endOfPause) => {
      const ws = new WebSocket(`ws://127.0.0.1:${sup.port}/`, { perMessageDeflate: false, maxPayload: 0 });
      onCleanup(() => ws.terminate());
      await within(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), 10_000, 'WebSocket open');
      const message = Buffer.alloc(256 * 1024, 0x63);
      const messages = TOTAL / message.length;
      let echoedBytes = 0;
      let echoedMessages = 0;
      const allEchoed = new Promise<void>((resolve) =>
        ws.on('message', (data: Buffer) => {
          echoedBytes += data.length;
          if (++echoedMessages === messages) resolve();
        }),
      );
      const closedEarly = new Promise<never>((_, reject) => ws.once('close', (code) => reject(new Error(`closed with ${code} before the echo completed`))));
      ws.pause();
      // Send everything while not reading, a bounded amount buffered in this process at a time.
      let sent = 0;
      const sendDeadline = Date.now() + 60_000;
      while (sent < messages && Date.now() < sendDeadline) {
        if (ws.bufferedAmount > 8 * message.length) {
          await delay(5);
          continue;
        }
        ws.send(message, { binary: true });
        sent++;
      }
      expect(sent).toBe(messages);
      await delay(PAUSE_MS);
      endOfPause();
      const echoedDuringPause = echoedBytes;
      ws.resume();
      await within(Promise.race([allEchoed, closedEarly]), 60_000, 'WebSocket echo of 200 MB');
      fig.set('messages', messages);
      fig.set('echoedBytesDuringPause', echoedDuringPause);
      fig.lost('lostMessages', messages - echoedMessages);
      fig.lost('missingBytes', TOTAL - echoedBytes);
      expect(echoedDuringPause).toBe(0);
      expect(echoedBytes).toBe(TOTAL);
      ws.close(1000);
    });
  });
});
