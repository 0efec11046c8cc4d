import type { Logger } from '../log/logger.js';

export interface PairingRefusal {
  /** The client's address as the gateway attributed it (X-Forwarded-For from the front door), else the peer. */
  readonly clientAddress: string | null;
  readonly requestId: string | null;
  readonly deviceId: string | null;
  /** not-paired, scope-upgrade, role-upgrade, … */
  readonly reason: string | null;
  readonly origin: string | null;
  readonly userAgent: string | null;
}

const field = (line: string, name: string): string | null => {
  const value = new RegExp(`(?:^|\\s)${name}=(\\S+)`).exec(line)?.[1];
  return value === undefined || value === 'n/a' || value === '?' ? null : value;
};

/**
 * The gateway's line for a device refused for pairing (openclaw@2026.9.6, stderr, measured):
 * `[ws] closed before connect conn=… remote=127.0.0.1 fwd=10.9.8.7 origin=n/a … code=1008
 * reason=pairing required: device is not approved yet (requestId: <id>) … cause=pairing-required …
 * deviceId=<id> requestId=<id> reason=not-paired`. Null for every other line.
 */
export function parsePairingRefusal(line: string): PairingRefusal | null {
  if (!line.includes('closed before connect') || !(line.includes('cause=pairing-required') || line.includes('reason=pairing required'))) return null;
  const forwarded = field(line, 'fwd');
  const requestId = /\(requestId: ([\w-]+)\)/.exec(line)?.[1] ?? field(line, 'requestId');
  // The last `reason=` is the short code (the first one is the close reason, which has spaces).
  const reasons = [...line.matchAll(/(?:^|\s)reason=([\w-]+)(?=\s|$)/g)].map((match) => match[1] ?? '');
  return {
    clientAddress: forwarded?.split(',')[0]?.trim() ?? field(line, 'remote'),
    requestId: requestId ?? null,
    deviceId: field(line, 'deviceId'),
    reason: reasons.at(-1) ?? null,
    origin: field(line, 'origin'),
    userAgent: field(line, 'ua'),
  };
}

export interface PairingNoticeOptions {
  readonly logger: Logger;
  /** The command that runs this supervisor's CLI, e.g. `node /app/dist/cli.js`. */
  readonly selfCommand: string;
  /** At most this many records per window (default 5 per minute); the rest are counted. */
  readonly maxPerWindow?: number;
  readonly windowMs?: number;
  readonly now?: () => number;
}

const REMEMBERED_IDS = 1000;

/**
 * One `gateway.pairing_required` record per pairing request id (the Control UI retries every
 * 1-4 s with the same id), at most `maxPerWindow` per window: a flood of new devices cannot flood
 * the log; the next record says how many were left out.
 */
export class PairingNotices {
  readonly #seen = new Set<string>();
  #windowStart = 0;
  #inWindow = 0;
  #suppressed = 0;
  readonly #options: Required<Omit<PairingNoticeOptions, 'logger' | 'selfCommand'>> & PairingNoticeOptions;

  constructor(options: PairingNoticeOptions) {
    this.#options = { maxPerWindow: 5, windowMs: 60_000, now: Date.now, ...options };
  }

  /** Feed every gateway output line. */
  onLine(line: string): void {
    const refusal = parsePairingRefusal(line);
    if (refusal === null) return;
    const key = refusal.requestId ?? `device:${refusal.deviceId ?? '?'}@${refusal.clientAddress ?? '?'}`;
    if (this.#seen.has(key)) return;
    const now = this.#options.now();
    if (now - this.#windowStart >= this.#options.windowMs) {
      this.#windowStart = now;
      this.#inWindow = 0;
    }
    if (this.#inWindow >= this.#options.maxPerWindow) {
      this.#suppressed++;
      return;
    }
    this.#inWindow++;
    this.#seen.add(key);
    if (this.#seen.size > REMEMBERED_IDS) this.#seen.delete(this.#seen.values().next().value as string);
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    const list = `${this.#options.selfCommand} devices`;
    const approveCommand = refusal.requestId === null ? null : `${this.#options.selfCommand} devices approve ${refusal.requestId}`;
    this.#options.logger.warn(
      { event: 'gateway.pairing_required', ...refusal, approveCommand, listCommand: list, ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}) },
      `device pairing required for a client at ${refusal.clientAddress ?? 'an unknown address'}${refusal.reason ? ` (${refusal.reason})` : ''}: if it is yours, approve it with: ${approveCommand ?? `${list} (then devices approve <request id>)`}`,
    );
  }
}
