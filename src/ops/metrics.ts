import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FrontDoorStats, StatusClass } from '../front-door/front-door.js';
import type { GatewayState } from '../gateway/lifecycle.js';
import type { DiskReading } from '../host/disk-health.js';
import type { MemoryEvidence } from '../host/evidence.js';
import { EXIT_OUTCOMES, RESTART_CAUSES } from '../gateway/restart-policy.js';
import type { SupervisorEvent } from '../log/events.js';

/** Channel label values kept; failing channels past these share the label `_other` (bounded cardinality). */
export const MAX_CHANNEL_LABELS = 32;
export const OTHER_CHANNEL_LABEL = '_other';

export const STATUS_CLASSES: readonly StatusClass[] = ['1xx', '2xx', '3xx', '4xx', '5xx', 'none'];

/** Where the pulled metrics come from: read at scrape time only. */
export interface MetricsSources {
  gateway(): { readonly state: GatewayState; readonly readyAt: number | null };
  frontDoor(): FrontDoorStats;
  /** The container's cgroup memory, or null when there is none to read. */
  memory(): MemoryEvidence | null;
  /** The state directory's file system as last polled (src/host/disk-health.ts), null before the first poll or when off. */
  disk?(): DiskReading | null;
  now?(): number;
}

const GATEWAY_STATES: readonly GatewayState[] = ['idle', 'starting', 'ready', 'backoff', 'stopping', 'stopped', 'failed'];
export type { FrontDoorStats };
export const PREFIX = 'openclaw_supervisor_';

export interface Metrics {
  readonly registry: Registry;
  /** The counters that follow events (restarts, give-ups, ready flips, durations). */
  observe(event: SupervisorEvent): void;
}

/**
 * The supervisor's Prometheus metrics on a registry of its own. Counters and histograms that follow
 * events are incremented by `observe`; everything else is pulled from `sources` when scraped, so the
 * forwarding path pays nothing but the front door's plain number increments. Labels take
 * enumerated values only: no address, no path, no token can become a label.
 */
export function createMetrics(sources: MetricsSources, options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  const now = (): number => sources.now?.() ?? Date.now();
  const registers = [registry];

  new Gauge({
    name: `${PREFIX}gateway_state`,
    help: 'The gateway lifecycle state, one-hot: 1 for the current state, 0 for the others',
    labelNames: ['state'],
    registers,
    collect() {
      const current = sources.gateway().state;
      for (const state of GATEWAY_STATES) this.set({ state }, state === current ? 1 : 0);
    },
  });
  new Gauge({
    name: `${PREFIX}gateway_ready_seconds`,
    help: 'How long the gateway has been ready without interruption (0 when not ready)',
    registers,
    collect() {
      const { state, readyAt } = sources.gateway();
      this.set(state === 'ready' && readyAt !== null ? Math.max(0, now() - readyAt) / 1000 : 0);
    },
  });
  const restarts = new Counter({ name: `${PREFIX}gateway_restarts_total`, help: `Gateway restarts by cause (${RESTART_CAUSES.join(', ')})`, labelNames: ['cause'], registers });
  for (const cause of RESTART_CAUSES) restarts.inc({ cause }, 0);
  const exits = new Counter({ name: `${PREFIX}gateway_exits_total`, help: 'Gateway process exits by how the supervisor read them', labelNames: ['outcome'], registers });
  // `other` stays for the dashboards that list it: every exit has one of the outcomes now.
  for (const outcome of [...EXIT_OUTCOMES, 'other']) exits.inc({ outcome }, 0);
  const giveUps = new Counter({ name: `${PREFIX}gateway_give_ups_total`, help: 'Times the supervisor gave up on the gateway: crash-loop (exit 1) or refused (exit 78)', labelNames: ['reason'], registers });
  giveUps.inc({ reason: 'crash-loop' }, 0);
  giveUps.inc({ reason: 'refused' }, 0);
  const readyFlips = new Counter({ name: `${PREFIX}gateway_ready_transitions_total`, help: 'The gateway became ready (to="ready") or stopped being ready (to="not_ready")', labelNames: ['to'], registers });
  readyFlips.inc({ to: 'ready' }, 0);
  readyFlips.inc({ to: 'not_ready' }, 0);
  const spawnToReady = new Histogram({
    name: `${PREFIX}gateway_spawn_to_ready_seconds`,
    help: 'Time from spawning the gateway to its readiness',
    buckets: [0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120, 180, 300],
    registers,
  });
  const updateRollbacks = new Counter({ name: `${PREFIX}gateway_update_rollbacks_total`, help: 'Steps to another openclaw release that were refused or rolled back, by the stage that stopped them', labelNames: ['stage'], registers });
  const unresponsiveKills = new Counter({ name: `${PREFIX}gateway_unresponsive_kills_total`, help: 'Times the ready gateway stopped answering its liveness probe (GET /healthz) and was killed', registers });
  const drainDuration = new Histogram({ name: `${PREFIX}drain_duration_seconds`, help: 'Duration of the graceful stop (drain), from the signal to the end', buckets: [0.1, 0.5, 1, 2, 5, 8, 10, 15, 20, 30, 60], registers });
  const drainDeadline = new Counter({ name: `${PREFIX}drain_deadline_hits_total`, help: 'Drains that reached their deadline and cut what was left', registers });

  const frontDoorCounter = (name: string, help: string, labelNames: string[], read: (stats: FrontDoorStats) => Array<[Record<string, string>, number]>): void => {
    new Counter({
      name: `${PREFIX}${name}`,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const [labels, value] of read(sources.frontDoor())) this.inc(labels, value);
      },
    });
  };
  frontDoorCounter('http_responses_total', 'HTTP answers on the public port by status class (accepted WebSocket upgrades excluded; none = the client left or the answer was cut before a status)', ['code_class'], (s) =>
    STATUS_CLASSES.map((codeClass) => [{ code_class: codeClass }, s.httpResponses[codeClass]]),
  );
  frontDoorCounter('upstream_errors_total', 'Requests the gateway did not answer (502/504 sent, or a WebSocket handshake failed)', ['kind'], (s) => [
    [{ kind: 'http' }, s.upstreamErrors.http],
    [{ kind: 'websocket' }, s.upstreamErrors.websocket],
  ]);
  frontDoorCounter('client_bytes_total', 'Bytes on clients\' connections to the public port: received from clients (direction="in") and sent to them (direction="out")', ['direction'], (s) => [
    [{ direction: 'in' }, s.bytesReceived],
    [{ direction: 'out' }, s.bytesSent],
  ]);
  frontDoorCounter('websocket_sessions_total', 'WebSocket sessions opened through the front door', [], (s) => [[{}, s.websocketsOpened]]);
  frontDoorCounter('drain_requests_total', 'During the drain: HTTP requests completed, rejected (503) or cut, WebSocket sessions closed or cut', ['kind', 'result'], (s) => [
    [{ kind: 'http', result: 'completed' }, s.drain.httpCompleted],
    [{ kind: 'http', result: 'rejected' }, s.drain.httpRejected],
    [{ kind: 'http', result: 'cut' }, s.drain.httpCut],
    [{ kind: 'websocket', result: 'completed' }, s.drain.websocketsClosed],
    [{ kind: 'websocket', result: 'cut' }, s.drain.websocketsCut],
  ]);
  new Gauge({ name: `${PREFIX}websocket_sessions_open`, help: 'WebSocket sessions open now', registers, collect() { this.set(sources.frontDoor().websocketsOpen); } });
  new Gauge({ name: `${PREFIX}http_requests_inflight`, help: 'Forwarded HTTP requests whose exchange is not over', registers, collect() { this.set(sources.frontDoor().inflightRequests); } });

  // cgroup memory of the container (v2, or v1's equivalents): series only where there is one to read
  // (a label-less series cannot be left out later), the limit only when there is a limit.
  const firstReading = sources.memory();
  const memoryGauge = (name: string, help: string, read: (m: MemoryEvidence) => number | null): void => {
    if (firstReading === null || read(firstReading) === null) return;
    new Gauge({
      name: `${PREFIX}${name}`,
      help,
      registers,
      collect() {
        const memory = sources.memory();
        const value = memory === null ? null : read(memory);
        if (value !== null) this.set(value);
      },
    });
  };
  memoryGauge('cgroup_memory_current_bytes', 'Memory used by the container (cgroup memory.current)', (m) => m.currentBytes);
  memoryGauge('cgroup_memory_max_bytes', 'Memory limit of the container (cgroup memory.max; absent when unlimited)', (m) => m.maxBytes);
  if (firstReading !== null && firstReading.oomKill !== null) {
    new Counter({
      name: `${PREFIX}cgroup_oom_kills_total`,
      help: 'Processes of the container killed by the kernel for memory (cgroup memory.events oom_kill, since the container started)',
      registers,
      collect() {
        const kills = sources.memory()?.oomKill ?? null;
        if (kills === null) return;
        this.reset();
        this.inc(kills);
      },
    });
  }

  // Channel health from the gateway's own /readyz: a series per channel once it has failed (the answer
  // names failing channels only), 1 while failing, 0 after; `_other` counts those past the cap.
  const channelFailing = new Gauge({ name: `${PREFIX}gateway_channel_failing`, help: `1 while the gateway's own readiness (GET /readyz) names this channel (or agent-database:<id>, plugin-reload, …) as failing, 0 once it no longer does; past ${MAX_CHANNEL_LABELS} channels, _other counts the rest`, labelNames: ['channel'], registers });
  const channelLabels = new Set<string>();
  const otherFailing = new Set<string>();
  const observeChannel = (channel: string, failing: boolean): void => {
    if (channelLabels.has(channel) || (channelLabels.size < MAX_CHANNEL_LABELS && channel !== OTHER_CHANNEL_LABEL)) {
      channelLabels.add(channel);
      channelFailing.set({ channel }, failing ? 1 : 0);
      return;
    }
    // Bounded too: only names that are failing now are held.
    if (failing && otherFailing.size < 1024) otherFailing.add(channel);
    else otherFailing.delete(channel);
    channelFailing.set({ channel: OTHER_CHANNEL_LABEL }, otherFailing.size);
  };

  // The state directory's file system, as the disk poll last read it.
  const diskGauge = (name: string, help: string, read: (d: DiskReading) => number): void => {
    if (sources.disk === undefined) return;
    new Gauge({
      name: `${PREFIX}${name}`,
      help,
      registers,
      collect() {
        const disk = sources.disk?.() ?? null;
        if (disk !== null) this.set(read(disk));
      },
    });
  };
  diskGauge('state_disk_free_bytes', 'Free bytes on the state directory\'s file system (statfs, available to the supervisor\'s user)', (d) => d.freeBytes);
  diskGauge('state_disk_size_bytes', 'Size of the state directory\'s file system (statfs)', (d) => d.sizeBytes);
  diskGauge('state_disk_writable', '1 when a probe write in the state directory succeeds, 0 when it is refused (read-only, permission)', (d) => (d.writable ? 1 : 0));

  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  return {
    registry,
    observe(event) {
      switch (event.name) {
        case 'gateway.ready':
          readyFlips.inc({ to: 'ready' });
          spawnToReady.observe(event.fields.sinceSpawnMs / 1000);
          break;
        case 'gateway.exited':
          exits.inc({ outcome: event.fields.outcome });
          if (event.fields.wasReady) readyFlips.inc({ to: 'not_ready' });
          break;
        case 'gateway.restart_scheduled':
          restarts.inc({ cause: event.fields.reason });
          break;
        case 'gateway.unresponsive':
          unresponsiveKills.inc();
          break;
        case 'gateway.update_rolled_back':
          updateRollbacks.inc({ stage: event.fields.stage });
          break;
        case 'gateway.crash_loop':
          giveUps.inc({ reason: 'crash-loop' });
          break;
        case 'gateway.refused':
          giveUps.inc({ reason: 'refused' });
          break;
        case 'gateway.channel_unhealthy':
        case 'gateway.channel_recovered':
          observeChannel(event.fields.channel, event.name === 'gateway.channel_unhealthy');
          break;
        case 'supervisor.drain_finished':
          drainDuration.observe(event.fields.durationMs / 1000);
          if (event.fields.deadlineHit) drainDeadline.inc();
          break;
        default:
          break;
      }
    },
  };
}
