import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { endSocket } from './responses.js';
import { CLOSE_SERVICE_RESTART, FrameBoundaryTracker, encodeCloseFrame } from './ws-frames.js';

export type TunnelEnd = 'closed' | 'cut';

export interface Tunnel {
  /**
   * Ends the session with a close frame of ours when the stream is between frames, else drops it;
   * resolves once both sockets are gone, within `graceMs` whatever the client does.
   */
  cut(code: number, reason: string, graceMs: number): Promise<void>;
  /** Destroys both sockets now. */
  destroy(): void;
}

export interface TunnelHooks {
  onOpen(tunnel: Tunnel): void;
  onEnd(tunnel: Tunnel, end: TunnelEnd): void;
}

/**
 * Splices an accepted session: the client's early bytes (`clientHead`) go to the gateway, the
 * gateway's first frames (`gatewayHead`, read with its 101) to the client, then both directions are
 * piped. The gateway-to-client direction is watched for frame boundaries so that the front door can
 * close the session cleanly itself when the gateway vanishes or the drain deadline hits.
 */
export function splice(client: Duplex, clientHead: Buffer, gateway: Socket, gatewayHead: Buffer, hooks: TunnelHooks): void {
  const tracker = new FrameBoundaryTracker();
  let ended = false;
  let cutting = false;

  const finish = (end: TunnelEnd): void => {
    if (ended) return;
    ended = true;
    hooks.onEnd(tunnel, end);
  };
  /** Our own close frame, only between two frames and only if nobody closed yet; then a bounded end. */
  const closeClient = (code: number, reason: string): void => {
    if (!tracker.closeSeen && tracker.atBoundary && client.writable) {
      tracker.closeSeen = true;
      endSocket(client, encodeCloseFrame(code, reason));
    } else {
      endSocket(client);
    }
  };

  const tunnel: Tunnel = {
    cut(code, reason, graceMs) {
      if (ended || client.destroyed) return Promise.resolve();
      cutting = true;
      gateway.unpipe(client);
      gateway.destroy();
      return new Promise((resolve) => {
        client.once('close', () => resolve());
        closeClient(code, reason);
        // At the deadline nobody waits for the closing handshake: gone once our frame is sent, or
        // after the grace if the client does not even read it.
        client.once('finish', () => client.destroy());
        setTimeout(() => client.destroy(), graceMs).unref();
        finish('cut');
      });
    },
    destroy() {
      gateway.destroy();
      client.destroy();
    },
  };

  if (gatewayHead.length > 0) {
    tracker.feed(gatewayHead);
    client.write(gatewayHead);
  }
  gateway.on('data', tracker.feed);
  if (clientHead.length > 0) gateway.write(clientHead);
  gateway.pipe(client, { end: false });
  client.pipe(gateway);

  // The gateway ended the connection: pass its close on, or close for it if it vanished
  // mid-session (a crash): 1012 tells the client to reconnect once the gateway is back. Either way
  // the client's socket is gone within the linger bound, even if it never reads (backpressure).
  gateway.once('close', () => {
    if (!cutting) closeClient(CLOSE_SERVICE_RESTART, 'gateway restarting');
  });
  // The client half-closed: the gateway gets the same, and the pair a bounded time to finish.
  client.once('end', () => endSocket(gateway));
  gateway.on('error', () => gateway.destroy());
  client.on('error', () => client.destroy());
  client.once('close', () => {
    gateway.destroy();
    finish(cutting ? 'cut' : 'closed');
  });
  hooks.onOpen(tunnel);
}
