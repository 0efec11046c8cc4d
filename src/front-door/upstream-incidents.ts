import type { Logger } from '../log/logger.js';
import { emit } from '../log/emit.js';

/**
 * Logs forwarding failures once per incident instead of once per request: the first failure opens
 * an incident, the next success closes it with the number of requests it cost.
 */
export class UpstreamIncidents {
  #failedRequests = 0;
  #since = 0;
  readonly #totals = { http: 0, websocket: 0 };

  constructor(private readonly logger: Logger) {}

  failed(kind: 'http' | 'websocket', error: Error & { code?: string }): void {
    this.#totals[kind]++;
    if (this.#failedRequests++ === 0) {
      this.#since = Date.now();
      emit(
        this.logger,
        'front_door.upstream_error',
        { kind, code: error.code ?? null, error: error.message },
        `forwarding to the gateway failed (${error.code ?? error.message}); clients get 502 until it answers again`,
      );
    }
  }

  /** Failed requests since start, by kind (metrics). */
  totals(): { http: number; websocket: number } {
    return { ...this.#totals };
  }

  succeeded(): void {
    if (this.#failedRequests === 0) return;
    emit(
      this.logger,
      'front_door.upstream_recovered',
      { failedRequests: this.#failedRequests, durationMs: Date.now() - this.#since },
      `the gateway answers again after ${this.#failedRequests} failed requests`,
    );
    this.#failedRequests = 0;
  }
}
