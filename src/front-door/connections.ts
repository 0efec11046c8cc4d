import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Requests one connection may have waiting for their answers (pipelining depth); more ends the connection. */
export const MAX_PIPELINED = 16;

/** What an exchange under way is told when its response closes. */
export interface Closing {
  closed(): void;
}

/** One request on a connection, from its arrival to its response's close. */
interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly state: ConnectionState;
  readonly handle: Handle;
  /** Told when `res` closes (set once the exchange has started). */
  started: Closing | null;
  closed: boolean;
}

/** What the front door keeps per client connection, on the socket itself. */
interface ConnectionState {
  /** Requests whose answer is not complete yet. */
  unanswered: number;
  /** The exchange being answered, and the ones parsed ahead of it, in order. */
  active: Exchange | null;
  readonly waiting: Exchange[];
  /** The connection ends after the answer under way: nothing behind it is forwarded. */
  closing: boolean;
}

const STATE = Symbol('front-door connection');
type Tracked = { [STATE]?: ConnectionState };
/** A queued response's exchange, on the response itself: one close listener shared by all. */
const EXCHANGE = Symbol('front-door exchange');
type Queued = ServerResponse & { [EXCHANGE]?: Exchange };

function stateOf(socket: object): ConnectionState | undefined {
  return (socket as Tracked)[STATE];
}

/** Runs one exchange; returns what to tell when its response closes, if anything. */
export type Handle = (req: IncomingMessage, res: ServerResponse) => Closing | void;

/**
 * The client connections of the public port: their byte counts, and per connection the pipelining
 * queue. Pipelined requests are handled one at a time, each once the answer before it is complete
 * (as nginx does): Node's server parses ahead, and a request behind an answer that ends the
 * connection (a refusal, HTTP/1.0 without a length) would otherwise reach the gateway with nobody
 * left to read its answer.
 */
export class Connections {
  /** Open client connections (their bytes so far are read at scrape time), and the bytes of closed ones. */
  readonly #open = new Set<Socket>();
  #closedBytesReceived = 0;
  #closedBytesSent = 0;
  #accepted = 0;

  get accepted(): number {
    return this.#accepted;
  }

  /** Bytes read from and written to clients' connections so far. */
  bytes(): { received: number; sent: number } {
    let received = this.#closedBytesReceived;
    let sent = this.#closedBytesSent;
    for (const socket of this.#open) {
      received += socket.bytesRead;
      sent += socket.bytesWritten;
    }
    return { received, sent };
  }

  accept(socket: Socket): void {
    this.#accepted++;
    this.#open.add(socket);
    (socket as Tracked)[STATE] = { unanswered: 0, active: null, waiting: [], closing: false };
    socket.once('close', () => {
      this.#open.delete(socket);
      this.#closedBytesReceived += socket.bytesRead;
      this.#closedBytesSent += socket.bytesWritten;
    });
  }

  /** Queues one request behind those pending on its connection; `handle` runs it in turn. */
  enqueue(req: IncomingMessage, res: ServerResponse, handle: Handle): void {
    const socket = req.socket;
    const state = stateOf(socket);
    if (state === undefined) {
      const started = handle(req, res);
      if (started) res.once('close', () => started.closed());
      return;
    }
    // Each request parsed ahead holds a request, a response and a queue entry: a client that
    // pipelines thousands behind an answer it does not read must not make us hold them all.
    if (++state.unanswered > MAX_PIPELINED) {
      socket.destroy();
      return;
    }
    const exchange: Exchange = { req, res, state, handle, started: null, closed: false };
    (res as Queued)[EXCHANGE] = exchange;
    res.on('close', exchangeClosed);
    if (state.active === null) start(state, exchange);
    else state.waiting.push(exchange);
  }
}

/** The close listener of every queued response (`this`: the response). */
function exchangeClosed(this: ServerResponse): void {
  const exchange = (this as Queued)[EXCHANGE];
  if (exchange === undefined || exchange.closed) return;
  const state = exchange.state;
  state.unanswered--;
  exchange.closed = true;
  exchange.started?.closed();
  if (state.active !== exchange) return;
  state.active = null;
  let next = state.waiting.shift();
  while (next !== undefined && next.closed) next = state.waiting.shift();
  if (next !== undefined) start(state, next);
}

function start(state: ConnectionState, exchange: Exchange): void {
  state.active = exchange;
  exchange.started = exchange.handle(exchange.req, exchange.res) ?? null;
}

/** Requests on the connection whose answer is not complete yet. */
export function pendingAnswers(socket: object): number {
  return stateOf(socket)?.unanswered ?? 0;
}

export function isClosing(socket: object): boolean {
  return stateOf(socket)?.closing === true;
}

/** The connection ends after the answer under way: nothing behind it is forwarded. */
export function markClosing(socket: object): void {
  const state = stateOf(socket);
  if (state !== undefined) state.closing = true;
}
