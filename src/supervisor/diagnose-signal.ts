import type { GatewayState } from '../gateway/lifecycle.js';

import type { MemoryEvidence, RailwayEvidence } from '../host/evidence.js';

export type { MemoryEvidence, RailwayEvidence };

export interface SignalEvidence {
  readonly signal: NodeJS.Signals;
  readonly uptimeMs: number;
  readonly gatewayState: GatewayState;
  readonly everReady: boolean;
  readonly msSinceLastReady: number | null;
  readonly restarts: number;
  readonly recentFailures: number;
  readonly lastExit: { readonly code: number | null; readonly signal: string | null } | null;
  readonly fromTerminal: boolean;
  readonly railway: RailwayEvidence | null;
  readonly memory: MemoryEvidence | null;
}

export type ProbableCause =
  | 'terminal-interrupt'
  | 'memory-limit'
  | 'health-check-never-passed'
  | 'gateway-crash-loop'
  | 'platform-redeploy'
  | 'terminal-hangup'
  | 'stopped-before-ready'
  | 'external-stop';

export interface Diagnosis {
  readonly probableCause: ProbableCause;
  readonly explanation: string;
}

/** Share of memory.max above which a platform's memory watchdog is the likely sender. */
const MEMORY_PRESSURE_RATIO = 0.9;

/**
 * Why a stop signal probably arrived, from what the supervisor saw. Pure, so that every scenario is
 * a row in a unit-test table. Ordered from the most specific evidence to the least.
 */
export function diagnoseSignal(e: SignalEvidence): Diagnosis {
  if (e.signal === 'SIGINT' && e.fromTerminal) {
    return { probableCause: 'terminal-interrupt', explanation: 'SIGINT from the terminal (Ctrl-C)' };
  }
  const memory = e.memory;
  if (memory && ((memory.oomKill ?? 0) > 0 || (memory.currentBytes !== null && memory.maxBytes !== null && memory.currentBytes >= MEMORY_PRESSURE_RATIO * memory.maxBytes))) {
    return {
      probableCause: 'memory-limit',
      explanation: 'the container is at or over its memory limit (cgroup memory.current/memory.max, OOM kills): the platform replaces containers that exhaust memory; give it more memory (the gateway tree needs ~1 GB)',
    };
  }
  if (e.railway && !e.everReady) {
    return {
      probableCause: 'health-check-never-passed',
      explanation: `the gateway never became ready (state ${e.gatewayState}); Railway stops a deployment whose healthcheckPath did not answer 200 within healthcheckTimeout: raise healthcheckTimeout or look at the gateway's startup errors above`,
    };
  }
  if (e.gatewayState === 'failed' || (e.recentFailures >= 2 && e.gatewayState !== 'ready')) {
    return {
      probableCause: 'gateway-crash-loop',
      explanation: `the gateway kept failing (${e.recentFailures} recent failures, ${e.restarts} restarts); an orchestrator that watches health may have given up on this instance`,
    };
  }
  if (e.railway) {
    return {
      probableCause: 'platform-redeploy',
      explanation: 'Railway stops the running deployment when a new one goes live (a deploy, a variable change, a restart from the dashboard) or when it migrates the host',
    };
  }
  if (e.signal === 'SIGHUP') {
    return { probableCause: 'terminal-hangup', explanation: 'SIGHUP: the controlling terminal or session closed' };
  }
  if (!e.everReady) {
    return {
      probableCause: 'stopped-before-ready',
      explanation: `stopped before the gateway was ever ready (state ${e.gatewayState}): a deploy or health-check timeout, or a manual stop during startup`,
    };
  }
  return {
    probableCause: 'external-stop',
    explanation: 'an operator or orchestrator stopped the container (docker stop, kubectl delete, systemctl stop) or a process inside it sent the signal',
  };
}
