import pRetry, { AbortError } from 'p-retry';
import { emit } from '../log/emit.js';
import type { Logger } from '../log/logger.js';
import { TIME_BOUNDS } from '../time-bounds.js';
import type { AlertPayload } from './alert-policy.js';

/**
 * Attempts per alert: the first and two retries, alertMinRetryDelay (×1–2) then twice that apart.
 * Each attempt is aborted after alertAttemptTimeout (a receiver that accepts and never answers);
 * the exit (after a crash loop, a refusal or a stop) waits at most alertExitFlush for alerts still
 * being delivered (src/time-bounds.ts).
 */
export const ATTEMPTS = 3;

export interface WebhookOptions {
  readonly url: string;
  readonly logger: Logger;
  readonly attemptTimeoutMs?: number;
  readonly attempts?: number;
  readonly minRetryDelayMs?: number;
  readonly fetch?: typeof fetch;
}

export interface FlushResult {
  readonly delivered: number;
  readonly failed: number;
  /** Alerts still being delivered when the bound ran out: abandoned. */
  readonly abandoned: number;
}

class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/**
 * One JSON POST per alert to an incoming webhook, in the background: bounded retries (on network
 * errors, timeouts, 408, 429 and 5xx; a redirect or another 4xx is final), each attempt bounded by
 * a timeout. Nothing waits for it but `flush`, which the exit path calls with a bound. The URL is a
 * secret (Slack's and Discord's carry their key in the path): logs name its host only.
 */
export class AlertWebhook {
  readonly #options: Required<Omit<WebhookOptions, 'fetch'>> & { fetch: typeof fetch };
  readonly #host: string;
  readonly #pending = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #delivered = 0;
  #failed = 0;

  constructor(options: WebhookOptions) {
    this.#options = {
      attemptTimeoutMs: TIME_BOUNDS.alertAttemptTimeout.ms,
      attempts: ATTEMPTS,
      minRetryDelayMs: TIME_BOUNDS.alertMinRetryDelay.ms,
      fetch: globalThis.fetch,
      ...options,
    };
    this.#host = new URL(options.url).host;
  }

  get host(): string {
    return this.#host;
  }

  /** Starts the delivery; resolves true once delivered, false when it failed or was abandoned (never rejects). */
  send(payload: AlertPayload): Promise<boolean> {
    const delivery = this.#deliver(payload);
    const settled = delivery.then(() => undefined);
    this.#pending.add(settled);
    void settled.finally(() => this.#pending.delete(settled));
    return delivery;
  }

  /** Waits for the alerts under way, at most `boundMs`; what is left then is abandoned. Never rejects. */
  async flush(boundMs: number): Promise<FlushResult> {
    const pending = [...this.#pending];
    if (pending.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, boundMs));
      });
      await Promise.race([Promise.allSettled(pending), bound]);
      clearTimeout(timer);
    }
    const abandoned = this.#pending.size;
    if (abandoned > 0) this.#abort.abort(new Error('exiting'));
    return { delivered: this.#delivered, failed: this.#failed, abandoned };
  }

  async #deliver(payload: AlertPayload): Promise<boolean> {
    const { logger, attempts, minRetryDelayMs } = this.#options;
    const body = JSON.stringify(payload);
    let tries = 0;
    try {
      const status = await pRetry(
        async () => {
          tries++;
          return this.#post(body);
        },
        {
          retries: attempts - 1,
          minTimeout: minRetryDelayMs,
          factor: 2,
          randomize: true,
          signal: this.#abort.signal,
        },
      );
      this.#delivered++;
      emit(logger, 'ops.alert_sent', { kind: payload.kind, webhookHost: this.#host, status, attempts: tries }, `alert ${payload.kind} delivered to ${this.#host}`);
      return true;
    } catch (error) {
      this.#failed++;
      const reason = this.#abort.signal.aborted ? 'abandoned at exit' : describe(error);
      emit(logger, 'ops.alert_failed', { kind: payload.kind, webhookHost: this.#host, attempts: tries, reason }, `alert ${payload.kind} not delivered to ${this.#host} (${reason})`);
      return false;
    }
  }

  async #post(body: string): Promise<number> {
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#options.attemptTimeoutMs)]);
    let response: Response;
    try {
      response = await this.#options.fetch(this.#options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'openclaw-supervisor' },
        body,
        signal,
        redirect: 'manual',
      });
    } catch (error) {
      if (this.#abort.signal.aborted) throw new AbortError(describe(error));
      throw error instanceof Error ? error : new Error(String(error));
    }
    // The body is not needed; reading it frees the connection (bounded by the same signal).
    await response.arrayBuffer().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return response.status;
    const error = new HttpStatusError(response.status);
    if (response.status === 408 || response.status === 429 || response.status >= 500) throw error;
    throw new AbortError(error);
  }
}

function describe(error: unknown): string {
  if (error instanceof HttpStatusError) return error.message;
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return `no answer within the attempt timeout`;
    const cause = (error as Error & { cause?: { code?: string } }).cause;
    return cause?.code ?? error.message;
  }
  return String(error);
}
