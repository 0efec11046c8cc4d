import { emit } from '../log/emit.js';
import type { Logger } from '../log/logger.js';
import { escapeOptional, escapeUntrusted } from '../log/untrusted.js';
import { describeRequest, isPlainRequestId, type PendingRequest } from './pending-pairing.js';
import { TIME_BOUNDS } from '../time-bounds.js';

/**
 * The gateway's line for a device refused for pairing (openclaw@2026.9.6, stderr, measured):
 * `[ws] closed before connect conn=… remote=… fwd=… origin=… host=<Host> ua=<User-Agent> code=1008
 * reason=pairing required: device is not approved yet (requestId: <id>) … cause=pairing-required …`.
 * The line holds client-chosen text (Host, User-Agent) that can imitate any of its fields, so it is
 * only a trigger: what the notice says comes from the gateway's own pending list.
 */
export function isPairingRefusalLine(line: string): boolean {
  return line.includes('closed before connect') && (line.includes('cause=pairing-required') || line.includes('reason=pairing required'));
}

export interface PairingNoticeOptions {
  readonly logger: Logger;
  /** The command that runs this supervisor's CLI, e.g. `node /app/dist/cli.js`. */
  readonly selfCommand: string;
  /** The gateway's pending pairing requests (listPendingPairing); rejects when they cannot be read. */
  readonly listPending: () => Promise<readonly PendingRequest[]>;
  /** At most this many records per device id per window (default 3 per 10 min); the rest are counted. */
  readonly maxPerDevice?: number;
  readonly deviceWindowMs?: number;
  /** Request ids and device ids remembered (least recently seen forgotten first; default 1000 each). */
  readonly maxTracked?: number;
  /** At least this long between two list calls (default 1 s): a burst of refusals costs one or two calls. */
  readonly minIntervalMs?: number;
  readonly now?: () => number;
}

interface DeviceWindow {
  start: number;
  count: number;
  suppressed: number;
}

/** A Map used as an LRU: get/set move the key to the end, the oldest go past `max`. */
class Lru<K, V> {
  readonly #map = new Map<K, V>();
  constructor(readonly max: number) {}
  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.max) this.#map.delete(this.#map.keys().next().value as K);
  }
  get size(): number {
    return this.#map.size;
  }
}

const LIST_FAILURE_EVERY_MS = TIME_BOUNDS.pairingListFailureEvery.ms;

/**
 * `gateway.pairing_required`: one record per new pending request id the gateway lists, with the
 * exact approve command. A refusal line in the gateway's output triggers a read of the gateway's
 * own pending list (coalesced: one call in flight, at least `minIntervalMs` apart). The limit is
 * per device id, never global: a stranger's flood of requests cannot use up the records the
 * owner's request needs. Each record follows a refusal that the gateway logged itself, so records
 * never outnumber the gateway's own lines; memory is bounded by `maxTracked`.
 */
export class PairingNotices {
  readonly #options: Required<Omit<PairingNoticeOptions, 'logger' | 'selfCommand' | 'listPending'>> & PairingNoticeOptions;
  readonly #noticed: Lru<string, true>;
  readonly #devices: Lru<string, DeviceWindow>;
  #inFlight: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #again = false;
  #lastListAt = Number.NEGATIVE_INFINITY;
  #lastFailureAt = Number.NEGATIVE_INFINITY;

  constructor(options: PairingNoticeOptions) {
    this.#options = { maxPerDevice: 3, deviceWindowMs: TIME_BOUNDS.pairingDeviceWindow.ms, maxTracked: 1000, minIntervalMs: TIME_BOUNDS.pairingListInterval.ms, now: Date.now, ...options };
    this.#noticed = new Lru(this.#options.maxTracked);
    this.#devices = new Lru(this.#options.maxTracked);
  }

  /** Feed every gateway output line. */
  onLine(line: string): void {
    if (isPairingRefusalLine(line)) this.#trigger();
  }

  /** Stops a scheduled list call (at shutdown). */
  close(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#again = false;
  }

  #trigger(): void {
    // A call already scheduled will see this request; one in flight may have read the list before it.
    if (this.#timer !== null) return;
    if (this.#inFlight !== null) {
      this.#again = true;
      return;
    }
    const wait = Math.max(0, this.#lastListAt + this.#options.minIntervalMs - this.#options.now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#inFlight = this.refresh().finally(() => {
        this.#inFlight = null;
        if (this.#again) {
          this.#again = false;
          this.#trigger();
        }
      });
    }, wait);
    this.#timer.unref?.();
  }

  /** Reads the pending list once and logs a record for each request not logged yet (or not over its device's limit). */
  async refresh(): Promise<void> {
    this.#lastListAt = this.#options.now();
    let pending: readonly PendingRequest[];
    try {
      pending = await this.#options.listPending();
    } catch (error) {
      this.#listFailed(error as Error);
      return;
    }
    const now = this.#options.now();
    // Oldest first: the first to ask is logged first.
    for (const request of [...pending].sort((a, b) => (a.ts ?? 0) - (b.ts ?? 0))) {
      if (this.#noticed.get(request.requestId) !== undefined) continue;
      this.#noticed.set(request.requestId, true);
      const deviceKey = request.deviceId ? `device:${request.deviceId}` : `request:${request.requestId}`;
      let window = this.#devices.get(deviceKey);
      if (window === undefined || now - window.start >= this.#options.deviceWindowMs) {
        window = { start: now, count: 0, suppressed: window?.suppressed ?? 0 };
        this.#devices.set(deviceKey, window);
      }
      if (window.count >= this.#options.maxPerDevice) {
        window.suppressed++;
        continue;
      }
      window.count++;
      const suppressed = window.suppressed;
      window.suppressed = 0;
      this.#log(request, suppressed, now);
    }
  }

  #log(request: PendingRequest, suppressed: number, now: number): void {
    const { selfCommand } = this.#options;
    const requestId = escapeUntrusted(request.requestId, 80);
    const listCommand = `${selfCommand} devices`;
    // Only an id of the gateway's own form goes into a command meant to be copied.
    const approveCommand = isPlainRequestId(request.requestId) ? `${selfCommand} devices approve ${request.requestId}` : null;
    const clientAddress = escapeOptional(request.remoteIp, 64);
    emit(
      this.#options.logger,
      'gateway.pairing_required',
      {
        requestId,
        deviceId: escapeOptional(request.deviceId, 80),
        clientAddress,
        platform: escapeOptional(request.platform, 64),
        clientId: escapeOptional(request.clientId, 64),
        clientMode: escapeOptional(request.clientMode, 32),
        displayName: escapeOptional(request.displayName, 64),
        origin: escapeOptional(request.browserOrigin, 100),
        role: escapeOptional(request.role, 32),
        isRepair: request.isRepair === true,
        firstSeen: request.ts === undefined ? null : new Date(request.ts).toISOString(),
        approveCommand,
        listCommand,
        ...(suppressed > 0 ? { suppressedForDevice: suppressed } : {}),
      },
      `device pairing requested: request ${requestId}, ${describeRequest(request, now)}. Approve it only if your browser shows this request id` +
        ` (the Control UI shows it; behind a proxy or platform edge the address is the edge's): ${approveCommand ?? `${listCommand} (then devices approve <request id>)`}`,
    );
  }

  #listFailed(error: Error): void {
    const now = this.#options.now();
    if (now - this.#lastFailureAt < LIST_FAILURE_EVERY_MS) return;
    this.#lastFailureAt = now;
    const listCommand = `${this.#options.selfCommand} devices`;
    emit(
      this.#options.logger,
      'gateway.pairing_required',
      { requestId: null, approveCommand: null, listCommand, listError: escapeUntrusted(error.message, 200) },
      `a device was refused for pairing, and the supervisor could not read the gateway's pending requests (${escapeUntrusted(error.message, 200)}): list them with ${listCommand}`,
    );
  }
}
