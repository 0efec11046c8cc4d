import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { delay } from '../../helpers/front-door-clients.js';

/** One load client: what it sent, what came back, how it ended. */
export interface LoadClient {
  readonly index: number;
  readonly ws: WebSocket;
  sent: number;
  echoed: number;
  outOfOrder: number;
  shutdownEvents: number;
  errors: string[];
  /** Set before the test closes it (or makes the server close it): any close before that is unexpected. */
  closeExpected: boolean;
  unexpectedClose: boolean;
  close: { code: number; reason: string; at: number } | null;
  /** When the first echo of a message arrived (ms since open). */
  firstEchoAt: number | null;
}

function attach(index: number, ws: WebSocket): LoadClient {
  const client: LoadClient = { index, ws, sent: 0, echoed: 0, outOfOrder: 0, shutdownEvents: 0, errors: [], closeExpected: false, unexpectedClose: false, close: null, firstEchoAt: null };
  ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
    const text = isBinary ? '' : data.toString();
    if (text.startsWith('{')) {
      const parsed = JSON.parse(text) as { event?: string };
      if (parsed.event === 'shutdown') client.shutdownEvents++;
      return;
    }
    const [who, seq] = text.split(':');
    if (Number(who) !== index || Number(seq) !== client.echoed) client.outOfOrder++;
    client.echoed++;
    client.firstEchoAt ??= Date.now();
  });
  ws.on('error', (error) => client.errors.push(error.message));
  ws.once('close', (code, reason) => {
    client.close = { code, reason: reason.toString(), at: Date.now() };
    if (!client.closeExpected) client.unexpectedClose = true;
  });
  return client;
}

/**
 * Opens `count` WebSockets to `url`, `concurrency` handshakes at a time (a burst of 1000 SYNs would
 * overflow the listen backlog, which is not what this measures). Rejects if any handshake fails.
 */
export async function openClients(url: string, count: number, register: (client: LoadClient) => void, concurrency = 50, timeoutMs = 60_000): Promise<LoadClient[]> {
  const clients: LoadClient[] = [];
  const failures: string[] = [];
  const deadline = Date.now() + timeoutMs;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count && Date.now() < deadline) {
      const index = next++;
      const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 20_000 });
      const client = attach(index, ws);
      register(client);
      try {
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
          ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
        });
        clients.push(client);
      } catch (error) {
        failures.push(`#${index}: ${(error as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  if (failures.length > 0 || clients.length !== count) {
    throw new Error(`${count - clients.length} of ${count} WebSockets did not open: ${failures.slice(0, 5).join('; ')}`);
  }
  return clients.sort((a, b) => a.index - b.index);
}

/** Every client sends `${index}:${seq}` every `intervalMs` for `durationMs`, then all echoes are awaited (bounded). */
export async function exchange(clients: readonly LoadClient[], durationMs: number, intervalMs: number, settleMs = 30_000): Promise<void> {
  const timers: NodeJS.Timeout[] = [];
  const send = (client: LoadClient): void => {
    if (client.ws.readyState !== WebSocket.OPEN) return;
    client.ws.send(`${client.index}:${client.sent}`);
    client.sent++;
  };
  for (const client of clients) {
    // Staggered, so that the load is spread over the interval rather than in lockstep.
    const offset = (client.index * intervalMs) / clients.length;
    timers.push(
      setTimeout(() => {
        send(client);
        timers.push(setInterval(() => send(client), intervalMs));
      }, offset),
    );
  }
  await delay(durationMs);
  for (const timer of timers) clearTimeout(timer);
  await untilEchoed(clients, settleMs);
}

/** One message per client, and its echo awaited (bounded). */
export async function roundTrip(clients: readonly LoadClient[], settleMs = 30_000): Promise<void> {
  for (const client of clients) {
    client.ws.send(`${client.index}:${client.sent}`);
    client.sent++;
  }
  await untilEchoed(clients, settleMs);
}

async function untilEchoed(clients: readonly LoadClient[], settleMs: number): Promise<void> {
  const until = Date.now() + settleMs;
  while (Date.now() < until && clients.some((c) => c.echoed < c.sent && c.close === null)) await delay(50);
}

/** Resolves once every client has closed, or after `timeoutMs`; returns how many are still open. */
export async function untilClosed(clients: readonly LoadClient[], timeoutMs: number): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && clients.some((c) => c.close === null)) await delay(50);
  return clients.filter((c) => c.close === null).length;
}

export interface LoadSummary {
  readonly connections: number;
  readonly sent: number;
  readonly echoed: number;
  readonly lost: number;
  readonly outOfOrder: number;
  readonly unexpectedCloses: number;
  readonly errors: number;
}

export function summarize(clients: readonly LoadClient[]): LoadSummary {
  let sent = 0;
  let echoed = 0;
  let outOfOrder = 0;
  let unexpectedCloses = 0;
  let errors = 0;
  for (const c of clients) {
    sent += c.sent;
    echoed += c.echoed;
    outOfOrder += c.outOfOrder;
    if (c.unexpectedClose) unexpectedCloses++;
    errors += c.errors.length;
  }
  return { connections: clients.length, sent, echoed, lost: sent - echoed, outOfOrder, unexpectedCloses, errors };
}

/** The soft "Max open files" limit of a process. */
export function maxOpenFiles(pid: number): number {
  const match = /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return match ? Number(match[1]) : 0;
}
