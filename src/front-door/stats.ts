import type { DrainCounts } from './drain.js';

/** HTTP answers by status class; `none`: no status went out (the client left, or the answer was cut). */
export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'none';

/** The front door's counters since it started: plain numbers, read when metrics are scraped. */
export interface FrontDoorStats {
  /** HTTP answers on the public port, its own and forwarded ones (accepted WebSocket upgrades excluded). */
  readonly httpResponses: Readonly<Record<StatusClass, number>>;
  readonly websocketsOpened: number;
  readonly websocketsOpen: number;
  readonly inflightRequests: number;
  /** Requests the gateway did not answer (502/504 sent, or the WebSocket handshake failed). */
  readonly upstreamErrors: { readonly http: number; readonly websocket: number };
  /** Bytes read from and written to clients' connections on the public port. */
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly drain: DrainCounts;
}

/** Answers by status class, counted as they go out. */
export class AnswerCounts {
  /** Index 0 none, 1 to 5 for 1xx to 5xx. */
  readonly #byClass = [0, 0, 0, 0, 0, 0];

  /** One answer; 0 (or anything outside 100–599) for none. */
  count(status: number): void {
    const index = status >= 100 && status < 600 ? Math.floor(status / 100) : 0;
    this.#byClass[index]!++;
  }

  get total(): number {
    const r = this.#byClass;
    return r[0]! + r[1]! + r[2]! + r[3]! + r[4]! + r[5]!;
  }

  byClass(): Record<StatusClass, number> {
    const r = this.#byClass;
    return { none: r[0]!, '1xx': r[1]!, '2xx': r[2]!, '3xx': r[3]!, '4xx': r[4]!, '5xx': r[5]! };
  }
}
