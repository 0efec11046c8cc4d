/**
 * Every time bound of the supervisor: how long something may take, or how often it is done. The
 * one table the code reads (the settings' defaults among them) and docs/how-it-works.md's "Time
 * bounds" table shows (test/unit/readme.test.ts keeps the two equal). `setting` names the variable
 * that replaces the default, when there is one.
 */
export interface TimeBound {
  readonly ms: number;
  /** What it bounds, one line (the docs' table). */
  readonly bounds: string;
  readonly setting?: string;
}

const bound = (ms: number, bounds: string, setting?: string): TimeBound => (setting === undefined ? { ms, bounds } : { ms, bounds, setting });

export const TIME_BOUNDS = {
  // The gateway's start and stop.
  startupTimeout: bound(180_000, 'spawn to ready; past it the gateway is stopped and restarted', 'SUPERVISOR_STARTUP_TIMEOUT_MS'),
  readinessPoll: bound(20, 'pause between GET /startupz probes of a starting gateway (its ready line probes at once)'),
  readinessProbeTimeout: bound(1_000, 'one GET /startupz probe'),
  spawnErrorWait: bound(100, "a failed spawn's wait for the child's error code (EMFILE, ENOENT…)"),
  outputDrain: bound(200, "an exited gateway's last output lines (a grandchild may hold its pipes)"),
  readinessUptimeSlack: bound(1_000, "how much older than our spawn a ready gateway's reported uptime may be and still be ours"),
  stopTimeout: bound(5_000, "SIGTERM to SIGKILL of the gateway's process group (5/8 of a shorter drain)", 'SUPERVISOR_STOP_TIMEOUT_MS'),
  // The supervisor's stop.
  drainTimeout: bound(8_000, 'the whole graceful stop (docker stop waits 10 s)', 'SUPERVISOR_DRAIN_TIMEOUT_MS'),
  drainSafetyMargin: bound(2_000, "of Railway's draining time, kept for our own exit (at most a quarter of it)"),
  kubernetesDrainTimeout: bound(28_000, 'the whole graceful stop on Kubernetes (terminationGracePeriodSeconds 30)', 'SUPERVISOR_DRAIN_TIMEOUT_MS'),
  kubernetesShutdownDelay: bound(5_000, 'serving with /readyz 503 after SIGTERM on Kubernetes, before the drain', 'SUPERVISOR_SHUTDOWN_DELAY_MS'),
  // Restarts.
  restartDelay: bound(1_000, 'the first restart delay after a failure (jittered ×1–2, doubled per failure)', 'SUPERVISOR_RESTART_DELAY_MS'),
  restartMaxDelay: bound(30_000, 'the longest restart delay', 'SUPERVISOR_RESTART_MAX_DELAY_MS'),
  restartStable: bound(60_000, 'ready this long: the backoff starts over', 'SUPERVISOR_RESTART_STABLE_MS'),
  restartLimitInterval: bound(300_000, 'window of the failures that make a crash loop', 'SUPERVISOR_RESTART_LIMIT_INTERVAL_MS'),
  // Watching the ready gateway and the host.
  livenessInterval: bound(10_000, 'pause between GET /healthz liveness probes of the ready gateway', 'SUPERVISOR_LIVENESS_INTERVAL_MS'),
  livenessTimeout: bound(30_000, 'one liveness probe; past it, /readyz 503', 'SUPERVISOR_LIVENESS_TIMEOUT_MS'),
  // 30 s: the gateway caches its readiness for 1 s and gives a channel 120 s to connect before it
  // counts as failing, so a faster poll learns nothing sooner; one read costs it well under 1 ms.
  channelHealthInterval: bound(30_000, "pause between reads of the gateway's own /readyz for failing channels", 'SUPERVISOR_CHANNEL_HEALTH_INTERVAL_MS'),
  channelHealthTimeout: bound(5_000, "one read of the gateway's /readyz for channel health"),
  diskCheckInterval: bound(60_000, "pause between checks of the state directory's free space and writability", 'SUPERVISOR_DISK_CHECK_INTERVAL_MS'),
  memoryPoll: bound(5_000, "pause between reads of the cgroup's OOM-kill counter (with a webhook)"),
  authProbeTimeout: bound(3_000, 'asking the gateway whether it accepts the token (a loopback WebSocket connect)'),
  pairingListTimeout: bound(5_000, "reading the gateway's pending pairing requests"),
  pairingListInterval: bound(1_000, 'the least time between two such reads after refusal lines'),
  pairingListFailureEvery: bound(60_000, 'at most one record per this long when those reads fail'),
  pairingDeviceWindow: bound(600_000, 'window of the pairing records per device'),
  memoryReleasePoll: bound(5_000, "pause between looks for a quiet supervisor whose memory grew"),
  // Alerts.
  alertWindow: bound(600_000, 'window of the restart count that makes an alert, and the quiet time after one', 'SUPERVISOR_ALERT_WINDOW_MS'),
  alertAttemptTimeout: bound(5_000, 'one POST to the alert webhook'),
  alertMinRetryDelay: bound(500, 'the first pause before a failed alert POST is retried'),
  alertExitFlush: bound(2_000, 'alerts still being delivered when the supervisor exits'),
  // Commands and releases.
  healthcheckTimeout: bound(3_000, '`healthcheck`: GET /readyz', '--timeout-ms'),
  auditTimeout: bound(180_000, "`audit`: the gateway's own security audit"),
  controlSocketRequest: bound(5_000, "one request to the running supervisor's control socket (`update`)"),
  releaseBackup: bound(300_000, "a release's `backup create --verify`"),
  releasePreflight: bound(120_000, "a release's database preflight"),
  releaseRestore: bound(300_000, 'restoring the backup of a rejected release'),
  releaseInstall: bound(600_000, 'installing a release from the npm registry'),
  releaseRegistry: bound(60_000, 'one question to the npm registry'),
  releaseNodeVersion: bound(10_000, "`node --version` of the Node a release runs on"),
  selfUpdateHintEvery: bound(60_000, "at most one hint per this long when the Control UI's Update button is refused"),
  // The front door (src/front-door/).
  frontDoorHeaders: bound(15_000, 'a request head (slowloris): 408'),
  frontDoorRequest: bound(60_000, 'a whole request, head and body: 408'),
  frontDoorKeepAlive: bound(65_000, "an idle keep-alive connection (Railway's edge closes its own after 60 s)"),
  frontDoorWriteStall: bound(60_000, 'a response the client stops reading, without progress'),
  frontDoorLinger: bound(5_000, 'an ended socket whose peer neither reads nor closes'),
  upstreamHeaders: bound(300_000, "the gateway's response headers: 504"),
  upstreamBody: bound(300_000, "a gap in the gateway's response body: the response is cut"),
  upstreamHandshake: bound(10_000, 'the WebSocket handshake to the gateway: 504'),
  cutGrace: bound(500, 'never-reading clients at the drain deadline, before they are cut'),
} as const satisfies Record<string, TimeBound>;

export type TimeBoundName = keyof typeof TIME_BOUNDS;

/** A bound as the docs write it: `20 ms`, `1.5 s`, `180 s`. */
export function describeMs(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${ms / 1_000} s`;
}
