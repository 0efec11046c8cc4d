import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log/logger.js';
import { attributeClient, normalizeAddress, type Attribution, type AttributionPolicy } from './client-attribution.js';
import { isLoopback } from '../host/loopback.js';
import { emit } from '../log/emit.js';

/** Attribution of each request (client-attribution.ts), and the few records a proxy's operator needs about it. */
export class Attributor {
  readonly #untrustedForwarders = new Set<string>();
  readonly #refusedForwarders = new Set<string>();

  constructor(
    private readonly policy: AttributionPolicy,
    private readonly logger: Logger,
  ) {}

  /** Who the client is (client-attribution.ts), with the records a proxy's operator needs. */
  attribute(req: IncomingMessage): Attribution {
    const address = normalizeAddress(req.socket.remoteAddress);
    const attribution = attributeClient(req, address, this.policy);
    if (attribution.kind === 'remote' && attribution.replaced) this.#noteUntrustedForwarder(address);
    if (attribution.kind === 'refused') this.#noteRefusedForwarder(address, attribution.code);
    return attribution;
  }

  /** Once per peer and reason (a few at most): a proxy that speaks for clients without naming them. */
  #noteRefusedForwarder(address: string, code: string): void {
    const key = `${address} ${code}`;
    if (this.#refusedForwarders.has(key) || this.#refusedForwarders.size >= 16) return;
    this.#refusedForwarders.add(key);
    emit(
      this.logger,
      'front_door.attribution_refused',
      { peer: address, reason: code },
      `requests from ${address} refused (403): it sends forwarding headers that do not name the client (${code}); make the proxy send X-Forwarded-For with the client's address (nginx: proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for)`,
    );
  }

  /** Once per peer (a few at most): how to find the address of a platform proxy to trust. */
  #noteUntrustedForwarder(address: string): void {
    if (this.#untrustedForwarders.has(address) || this.#untrustedForwarders.size >= 16) return;
    this.#untrustedForwarders.add(address);
    // A loopback peer is heard only as "remote" here (SUPERVISOR_LOOPBACK_CLIENTS=remote): adding
    // loopback to the list would let every relayed client name its own address again.
    const advice = isLoopback(address)
      ? 'with SUPERVISOR_LOOPBACK_CLIENTS=remote a relay on this host could name any client, so a proxy here is heard only from an address of its own: give it one (nginx: proxy_bind 127.0.0.2) and list only that address'
      : "add its range if it is your platform's proxy";
    emit(
      this.logger,
      'front_door.forwarded_headers_replaced',
      { peer: address },
      `X-Forwarded-For from ${address} replaced: that peer is not in SUPERVISOR_TRUSTED_PROXIES (${advice})`,
    );
  }
}

/** The same body for an HTTP request and a WebSocket upgrade, as the gateway names the same refusal. */
export function attributionRefusal(attribution: Extract<Attribution, { kind: 'refused' }>): object {
  return { error: 'proxy_attribution_required', reason: attribution.code, message: `refused: ${attribution.message} (see the README, "HTTPS in front")` };
}
