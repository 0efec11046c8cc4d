import { hostname } from 'node:os';
import type { Config } from '../config/config.js';
import { StartFailure } from '../errors.js';
import type { FrontDoorStats } from '../front-door/front-door.js';
import type { HealthDetails } from '../front-door/health.js';
import { emit, subscribe } from '../log/emit.js';
import type { SupervisorLogger } from '../log/logger.js';
import type { MemoryEvidence } from '../host/evidence.js';
import { DISK_OK, assessDisk, diskChanges, lowThresholdBytes, readDisk, type DiskReading } from '../host/disk-health.js';
import { INITIAL_ALERT_STATE, buildAlertPayload, mib, stepAlerts, type AlertContext, type AlertInput, type AlertPolicyState } from './alert-policy.js';
import { mergeSpool, parseSpool, readSpool, removeSpool, writeSpool, SPOOL_FILE, type SpooledAlert } from './alert-spool.js';
import { AlertWebhook } from './alert-webhook.js';
import { watchChannelHealth, type ReadinessFetch } from './channel-health.js';
import { healthDetails, type GatewayFacts } from './health-details.js';
import { METRICS_PATH, startMetricsServer, type MetricsServer } from './metrics-server.js';
import { TIME_BOUNDS } from '../time-bounds.js';

export interface OperationsDeps {
  readonly config: Config;
  readonly log: SupervisorLogger;
  readonly frontDoor: { stats(): FrontDoorStats; setHealthDetails(source: () => HealthDetails): void };
  /** The gateway's lifecycle as the runner keeps it (`runner.lifecycle` with `restartsOf`). */
  readonly gateway: () => GatewayFacts;
  /** The container's cgroup memory (src/host/evidence.ts readMemoryEvidence), null where there is none. */
  readonly readMemory: () => MemoryEvidence | null;
  readonly version: string;
  /** railway, kubernetes, docker, local (src/host/platform.ts). */
  readonly platform: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly now?: () => number;
  /** Injectable for tests: the gateway's /readyz (channel-health.ts) and the state disk (disk-health.ts). */
  readonly fetchReadiness?: ReadinessFetch;
  readonly readDisk?: (dir: string) => Promise<DiskReading | null>;
  /** Pause between reads of the cgroup's OOM-kill counter (three small files; only with a webhook): TIME_BOUNDS.memoryPoll by default. */
  readonly memoryPollMs?: number;
}

export interface Operations {
  /** Where /metrics is served, or null when SUPERVISOR_METRICS_PORT is not set. */
  readonly metrics: { readonly address: string; readonly port: number } | null;
  /**
   * The exit path: alerts still being delivered get at most `boundMs` (TIME_BOUNDS.alertExitFlush by
   * default; nothing is waited for when none is under way), then the metrics listener closes.
   */
  close(boundMs?: number): Promise<void>;
}

/**
 * Metrics (pulled at scrape time, counters following the stable events), the alert webhook, and the
 * details of /healthz and /readyz, wired in one place. The runner, the front door and the stop need
 * no hook of their own: this subscribes to the events they emit (src/log/emit.ts).
 */
export async function attachOperations(deps: OperationsDeps): Promise<Operations> {
  const { config, log, frontDoor } = deps;
  const { logger } = log;
  const now = deps.now ?? Date.now;
  const env = deps.env ?? process.env;

  frontDoor.setHealthDetails(() => healthDetails(deps.gateway(), now()));

  // prom-client is loaded only when metrics are on: its import would otherwise delay listening.
  let disk: DiskReading | null = null;
  const diskOn = config.health.diskIntervalMs > 0;
  const metrics =
    config.metrics === null
      ? null
      : (await import('./metrics.js')).createMetrics({ gateway: deps.gateway, frontDoor: () => frontDoor.stats(), memory: deps.readMemory, ...(diskOn ? { disk: () => disk } : {}), now });

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
      lastExit: facts.lastExit,
    };
  };
  // Alerts not delivered when the exit's bound runs out go to the spool (alert-spool.ts), sent at the next start.
  const undelivered = new Set<SpooledAlert>();
  let exiting = false;
  const deliver = (entry: SpooledAlert, late: boolean): void => {
    if (webhook === null) return;
    undelivered.add(entry);
    const current = context();
    const payload = buildAlertPayload(entry.alert, { ...current, gatewayState: entry.gateway.state, restarts: entry.gateway.restarts, lastExit: entry.gateway.lastExit }, { late });
    void webhook.send(payload).then((delivered) => {
      // A failure before the exit began is final (retries exhausted, a 4xx); one during it is the bound's doing.
      if (delivered || !exiting) undelivered.delete(entry);
    });
  };
  const alertOn = (input: AlertInput): void => {
    if (webhook === null) return;
    const step = stepAlerts(alertState, input, alertSettings);
    alertState = step.state;
    for (const alert of step.alerts) {
      emit(logger, 'ops.alert', { kind: alert.kind, severity: alert.severity, facts: alert.facts }, `alert ${alert.kind}: sending it to ${webhook.host}`);
      const facts = deps.gateway();
      deliver({ alert, gateway: { state: facts.state, restarts: facts.restarts, lastExit: facts.lastExit } }, false);
    }
  };
  if (webhook !== null) await sendSpooled(config.stateDir, log, (entry) => deliver(entry, true));

  // Channel health from the gateway's own /readyz, while it is ready. The failing set outlives one
  // gateway: a restart that fixes a channel reads as its recovery, one that does not changes nothing.
  let channelFailing: ReadonlySet<string> = new Set();
  let channelWatch: AbortController | null = null;
  const channelSettings = config.health.channelIntervalMs > 0 ? { intervalMs: config.health.channelIntervalMs, timeoutMs: TIME_BOUNDS.channelHealthTimeout.ms } : null;
  const watchChannels = (): void => {
    channelWatch?.abort();
    channelWatch = null;
    if (channelSettings === null) return;
    const watch = new AbortController();
    channelWatch = watch;
    void watchChannelHealth(
      config.gatewayPort,
      channelSettings,
      watch.signal,
      channelFailing,
      (diff, failing) => {
        channelFailing = failing;
        const all = [...failing];
        for (const channel of diff.unhealthy) {
          emit(
            logger,
            'gateway.channel_unhealthy',
            { channel, failing: all },
            `the gateway's readiness (GET /readyz) names ${channel} as failing: the gateway keeps running (a restart would end turns in flight) and the supervisor's /readyz is unchanged; see \`openclaw channels status\``,
          );
        }
        for (const channel of diff.recovered) emit(logger, 'gateway.channel_recovered', { channel, failing: all }, `the gateway's readiness no longer names ${channel} as failing`);
      },
      deps.fetchReadiness,
    );
  };

  const unsubscribe = subscribe(logger, (event) => {
    if (event.name === 'gateway.ready') watchChannels();
    // A gateway that exits or drains may name channels as failing on its way out: no channel's fault.
    if (event.name === 'gateway.exited' || event.name === 'supervisor.stopping') {
      channelWatch?.abort();
      channelWatch = null;
    }
    metrics?.observe(event);
    alertOn({ kind: 'event', event, at: now() });
  });

  let poll: NodeJS.Timeout | null = null;
  if (webhook !== null) {
    alertOn({ kind: 'memory', at: now(), oomKills: deps.readMemory()?.oomKill ?? null });
    poll = setInterval(() => alertOn({ kind: 'memory', at: now(), oomKills: deps.readMemory()?.oomKill ?? null }), deps.memoryPollMs ?? TIME_BOUNDS.memoryPoll.ms);
    poll.unref();
  }

  // The state directory's file system: records on change only (the first reading is compared with "fine").
  let diskCondition = DISK_OK;
  let diskPolling = false;
  const pollDisk = async (): Promise<void> => {
    if (diskPolling) return;
    diskPolling = true;
    try {
      const reading = await (deps.readDisk ?? readDisk)(config.stateDir);
      if (reading === null) return;
      disk = reading;
      const condition = assessDisk(reading);
      const facts = { stateDir: config.stateDir, freeBytes: reading.freeBytes, sizeBytes: reading.sizeBytes, thresholdBytes: lowThresholdBytes(reading.sizeBytes) };
      for (const change of diskChanges(diskCondition, condition)) {
        switch (change) {
          case 'low':
            emit(logger, 'supervisor.state_disk_low', facts, `the state directory's disk has ${mib(reading.freeBytes)} MiB free of ${mib(reading.sizeBytes)} MiB (below ${mib(facts.thresholdBytes)} MiB): free space or grow the volume before the gateway's writes fail`);
            break;
          case 'space-recovered':
            emit(logger, 'supervisor.state_disk_space_recovered', facts, `the state directory's disk has ${mib(reading.freeBytes)} MiB free again`);
            break;
          case 'read-only':
            emit(logger, 'supervisor.state_disk_read_only', { stateDir: config.stateDir, code: reading.writeError }, `a probe write in the state directory failed (${String(reading.writeError)}): the gateway cannot save its state; check the volume`);
            break;
          case 'writable-again':
            emit(logger, 'supervisor.state_disk_writable_again', { stateDir: config.stateDir }, 'the state directory takes writes again');
            break;
        }
      }
      diskCondition = condition;
    } finally {
      diskPolling = false;
    }
  };
  let diskTimer: NodeJS.Timeout | null = null;
  if (diskOn) {
    await pollDisk();
    diskTimer = setInterval(() => void pollDisk(), config.health.diskIntervalMs);
    diskTimer.unref();
  }

  let server: MetricsServer | null = null;
  if (metrics !== null && config.metrics !== null) {
    try {
      server = await startMetricsServer(metrics.registry, config.metrics.host, config.metrics.port);
    } catch (error) {
      unsubscribe();
      if (poll !== null) clearInterval(poll);
      if (diskTimer !== null) clearInterval(diskTimer);
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new StartFailure(`cannot serve metrics on ${config.metrics.host}:${config.metrics.port} (${code}): ${code === 'EADDRINUSE' ? 'another process uses SUPERVISOR_METRICS_PORT; pick another' : 'check SUPERVISOR_METRICS_HOST and SUPERVISOR_METRICS_PORT'}`);
    }
  }

  emit(
    logger,
    'supervisor.operations',
    {
      metrics: server === null ? null : { address: server.address, port: server.port, path: METRICS_PATH },
      alerts: webhook === null ? null : { webhookHost: webhook.host, restarts: alertSettings.restarts, windowMs: alertSettings.windowMs },
    },
    `${server === null ? 'metrics off (set SUPERVISOR_METRICS_PORT)' : `metrics on http://${server.address.includes(':') ? `[${server.address}]` : server.address}:${server.port}${METRICS_PATH}`}; ${webhook === null ? 'alerts off (set SUPERVISOR_ALERT_WEBHOOK)' : `alerts to ${webhook.host}`}`,
  );

  let closed: Promise<void> | null = null;
  return {
    metrics: server === null ? null : { address: server.address, port: server.port },
    close(boundMs = TIME_BOUNDS.alertExitFlush.ms) {
      closed ??= (async () => {
        exiting = true;
        if (poll !== null) clearInterval(poll);
        if (diskTimer !== null) clearInterval(diskTimer);
        channelWatch?.abort();
        if (webhook !== null) {
          const result = await webhook.flush(boundMs);
          if (result.abandoned > 0) {
            emit(logger, 'ops.alerts_abandoned', { abandoned: result.abandoned, boundMs }, `${result.abandoned} alert(s) still under way after ${boundMs} ms: exiting without them`);
          }
          if (undelivered.size > 0) await spoolAlerts(config.stateDir, log, [...undelivered]);
        }
        unsubscribe();
        server?.close();
      })();
      return closed;
    },
  };
}

/** The spool of the previous run, sent as late alerts and removed (they are spooled again if this exit abandons them too). */
async function sendSpooled(stateDir: string, log: SupervisorLogger, send: (entry: SpooledAlert) => void): Promise<void> {
  const text = await readSpool(stateDir).catch(() => '');
  if (text === null) return;
  const { entries, dropped } = parseSpool(text);
  await removeSpool(stateDir);
  emit(log.logger, 'ops.alert_spool_sent', { alerts: entries.length, dropped, file: SPOOL_FILE }, `${entries.length} alert(s) the previous run could not deliver before its exit: sending them now${dropped > 0 ? ` (${dropped} unreadable entries dropped)` : ''}`);
  for (const entry of entries) send(entry);
}

/** Merged with whatever spool is there, the newest kept; whole or absent. A failure is logged, never thrown (this is the exit path). */
async function spoolAlerts(stateDir: string, log: SupervisorLogger, added: readonly SpooledAlert[]): Promise<void> {
  try {
    const text = await readSpool(stateDir).catch(() => null);
    const existing = text === null ? [] : parseSpool(text).entries;
    const entries = mergeSpool(existing, added);
    await writeSpool(stateDir, entries);
    emit(log.logger, 'ops.alerts_spooled', { alerts: added.length, kinds: added.map((entry) => entry.alert.kind), file: SPOOL_FILE }, `${added.length} undelivered alert(s) kept in ${SPOOL_FILE} in the state directory: the next start sends them`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    emit(log.logger, 'ops.alert_spool_failed', { alerts: added.length, code }, `${added.length} undelivered alert(s) could not be kept for the next start (${code}): they are lost`);
  }
}
