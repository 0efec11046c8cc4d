import { hostname } from 'node:os';
import type { Config } from '../config/config.js';
import { StartFailure } from '../errors.js';
import type { FrontDoorStats } from '../front-door/front-door.js';
import type { HealthDetails } from '../front-door/health.js';
import type { SupervisorLogger } from '../log/logger.js';
import { INITIAL_ALERT_STATE, buildAlertPayload, stepAlerts, type AlertContext, type AlertInput, type AlertPolicyState } from './alert-policy.js';
import { AlertWebhook, EXIT_FLUSH_BOUND_MS } from './alert-webhook.js';
import { healthDetails, type GatewayFacts } from './health-details.js';
import { METRICS_PATH, startMetricsServer, type MetricsServer } from './metrics-server.js';
import type { MemoryReading } from './metrics.js';
import { eventFromRecord, type ExitSummary } from './ops-events.js';

/** How often the cgroup's OOM-kill counter is read for alerts (three small files; only with a webhook). */
export const MEMORY_POLL_MS = 5_000;

export interface OperationsDeps {
  readonly config: Config;
  readonly log: SupervisorLogger;
  readonly frontDoor: { stats(): FrontDoorStats; setHealthDetails(source: () => HealthDetails): void };
  /** The gateway's lifecycle as the runner keeps it (`runner.lifecycle` with `restartsOf`). */
  readonly gateway: () => GatewayFacts;
  /** The container's cgroup memory (src/host/evidence.ts readMemoryEvidence), null where there is none. */
  readonly readMemory: () => MemoryReading | null;
  readonly version: string;
  /** railway, kubernetes, docker, local (src/host/platform.ts). */
  readonly platform: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly now?: () => number;
}

export interface Operations {
  /** Where /metrics is served, or null when SUPERVISOR_METRICS_PORT is not set. */
  readonly metrics: { readonly address: string; readonly port: number } | null;
  /**
   * The exit path: alerts still being delivered get at most `boundMs` (EXIT_FLUSH_BOUND_MS by
   * default; nothing is waited for when none is under way), then the metrics listener closes.
   */
  close(boundMs?: number): Promise<void>;
}

/**
 * Everything issue 13 adds, wired in one place: metrics (pulled at scrape time, counters following
 * the stable log events), the alert webhook, and the details of /healthz and /readyz. The runner,
 * the front door and the stop need no hook of their own: the events come from the log.
 */
export async function attachOperations(deps: OperationsDeps): Promise<Operations> {
  const { config, log, frontDoor } = deps;
  const { logger } = log;
  const now = deps.now ?? Date.now;
  const env = deps.env ?? process.env;

  let lastExit: ExitSummary | null = null;
  let startupTimedOut = false;
  frontDoor.setHealthDetails(() => healthDetails(deps.gateway(), lastExit, now()));

  // prom-client is loaded only when metrics are on: its import would otherwise delay listening.
  const metrics = config.metrics === null ? null : (await import('./metrics.js')).createMetrics({ gateway: deps.gateway, frontDoor: () => frontDoor.stats(), memory: deps.readMemory, now });

  let webhook: AlertWebhook | null = null;
  let alertState: AlertPolicyState = INITIAL_ALERT_STATE;
  const alertSettings = { restarts: config.alerts.restarts, windowMs: config.alerts.windowMs };
  if (config.alerts.webhook !== null) {
    log.addSecrets([config.alerts.webhook]);
    webhook = new AlertWebhook({ url: config.alerts.webhook, logger });
  }
  const context = (): AlertContext => {
    const facts = deps.gateway();
    return {
      service: env['RAILWAY_SERVICE_NAME'] ?? env['OTEL_SERVICE_NAME'] ?? 'openclaw-supervisor',
      instance: env['RAILWAY_REPLICA_ID'] ?? hostname(),
      version: deps.version,
      platform: deps.platform,
      gatewayState: facts.state,
      restarts: facts.restarts,
      lastExit,
    };
  };
  const alertOn = (input: AlertInput): void => {
    if (webhook === null) return;
    const step = stepAlerts(alertState, input, alertSettings);
    alertState = step.state;
    for (const alert of step.alerts) {
      logger.warn({ event: 'ops.alert', kind: alert.kind, severity: alert.severity, facts: alert.facts }, `alert ${alert.kind}: sending it to ${webhook.host}`);
      webhook.send(buildAlertPayload(alert, context()));
    }
  };

  const unsubscribe = log.observe((fields) => {
    const event = eventFromRecord(fields, now());
    if (event === null) return;
    if (event.type === 'startup_timeout') startupTimedOut = true;
    if (event.type === 'spawned') startupTimedOut = false;
    if (event.type === 'exited') {
      lastExit = startupTimedOut ? { ...event.exit, reason: 'startup-timeout' } : event.exit;
      startupTimedOut = false;
    }
    metrics?.observe(event);
    alertOn({ kind: 'event', event });
  });

  let poll: NodeJS.Timeout | null = null;
  if (webhook !== null) {
    alertOn({ kind: 'memory', at: now(), oomKills: deps.readMemory()?.oomKill ?? null });
    poll = setInterval(() => alertOn({ kind: 'memory', at: now(), oomKills: deps.readMemory()?.oomKill ?? null }), MEMORY_POLL_MS);
    poll.unref();
  }

  let server: MetricsServer | null = null;
  if (metrics !== null && config.metrics !== null) {
    try {
      server = await startMetricsServer(metrics.registry, config.metrics.host, config.metrics.port);
    } catch (error) {
      unsubscribe();
      if (poll !== null) clearInterval(poll);
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new StartFailure(`cannot serve metrics on ${config.metrics.host}:${config.metrics.port} (${code}): ${code === 'EADDRINUSE' ? 'another process uses SUPERVISOR_METRICS_PORT; pick another' : 'check SUPERVISOR_METRICS_HOST and SUPERVISOR_METRICS_PORT'}`);
    }
  }

  logger.info(
    {
      event: 'supervisor.operations',
      metrics: server === null ? null : { address: server.address, port: server.port, path: METRICS_PATH },
      alerts: webhook === null ? null : { webhookHost: webhook.host, restarts: alertSettings.restarts, windowMs: alertSettings.windowMs },
    },
    `${server === null ? 'metrics off (set SUPERVISOR_METRICS_PORT)' : `metrics on http://${server.address.includes(':') ? `[${server.address}]` : server.address}:${server.port}${METRICS_PATH}`}; ${webhook === null ? 'alerts off (set SUPERVISOR_ALERT_WEBHOOK)' : `alerts to ${webhook.host}`}`,
  );

  let closed: Promise<void> | null = null;
  return {
    metrics: server === null ? null : { address: server.address, port: server.port },
    close(boundMs = EXIT_FLUSH_BOUND_MS) {
      closed ??= (async () => {
        if (poll !== null) clearInterval(poll);
        if (webhook !== null) {
          const result = await webhook.flush(boundMs);
          if (result.abandoned > 0) {
            logger.warn({ event: 'ops.alerts_abandoned', abandoned: result.abandoned, boundMs }, `${result.abandoned} alert(s) still under way after ${boundMs} ms: exiting without them`);
          }
        }
        unsubscribe();
        server?.close();
      })();
      return closed;
    },
  };
}
