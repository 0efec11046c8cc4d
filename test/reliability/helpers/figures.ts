import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, join } from 'node:path';
import { expect, onTestFinished } from 'vitest';
import { ROOT } from '../../helpers/supervisor.js';

/**
 * The figures of the last run of test/reliability, one entry per scenario (test), merged by every
 * test file (vitest runs them in parallel workers). Not tracked by git; rendered into
 * RELIABILITY.md by `npm run reliability:report`.
 */
export const FIGURES_FILE = join(ROOT, 'test', 'reliability', '.last-run.json');
const LOCK_DIR = `${FIGURES_FILE}.lock`;

export type ScenarioKind = 'fault' | 'signal' | 'backpressure' | 'load' | 'hostile' | 'secrets';

export type FigureValue = number | string | boolean | null | readonly number[] | readonly string[] | Readonly<Record<string, number | string | boolean | null>>;

export interface ScenarioRecord {
  readonly id: string;
  readonly title: string;
  readonly kind: ScenarioKind;
  readonly file: string;
  readonly status: string;
  readonly startedAt: string;
  readonly durationMs: number;
  /** Measured values: counts, durations (ms), memory (MB). */
  readonly figures: Record<string, FigureValue>;
  /** Things that must be 0: lost messages, refused connections, hung requests, unexpected closes … */
  readonly lost: Record<string, number>;
  /** Hostile inputs sent (for the "bad inputs tried" total). */
  readonly inputs: number;
}

export interface FiguresFile {
  readonly machine: Record<string, string | number>;
  readonly updatedAt: string;
  readonly scenarios: Record<string, ScenarioRecord>;
}

export interface Figures {
  /** Records a measured value (overwrites the same key). */
  set(key: string, value: FigureValue): void;
  /** Records a count that must be 0 (it is asserted by the test itself as well). */
  lost(key: string, count: number): void;
  /** Adds hostile inputs tried. */
  inputs(count: number): void;
}

/**
 * Declares the running test a scenario of the report. Its figures are written when the test
 * finishes (after afterEach hooks), with its pass/fail state, so a failed run is visible as such.
 */
export function scenario(id: string, kind: ScenarioKind): Figures {
  const state = expect.getState();
  const title = state.currentTestName ?? id;
  const file = basename(state.testPath ?? 'unknown');
  const startedAt = new Date();
  const figures: Record<string, FigureValue> = {};
  const lost: Record<string, number> = {};
  let inputs = 0;
  onTestFinished(({ task }) => {
    writeScenario({
      id,
      title: title.replace(/ > /g, ' › '),
      kind,
      file,
      status: task.result?.state ?? 'unknown',
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      figures,
      lost,
      inputs,
    });
  });
  return {
    set: (key, value) => {
      figures[key] = value;
    },
    lost: (key, count) => {
      lost[key] = count;
    },
    inputs: (count) => {
      inputs += count;
    },
  };
}

/** MB with one decimal, for memory figures. */
export const mb = (bytes: number): number => Math.round((bytes / (1024 * 1024)) * 10) / 10;

function machine(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    memoryMb: Math.round(os.totalmem() / (1024 * 1024)),
    node: process.version,
  };
}

/** Read-merge-write under a mkdir lock (atomic), bounded: a stale lock is broken after 5 s. */
function writeScenario(record: ScenarioRecord): void {
  const deadline = Date.now() + 5_000;
  let locked = false;
  for (let i = 0; i < 500 && !locked; i++) {
    try {
      mkdirSync(LOCK_DIR);
      locked = true;
    } catch {
      if (Date.now() > deadline || isStale()) {
        rmSync(LOCK_DIR, { recursive: true, force: true });
      } else {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      }
    }
  }
  try {
    let current: FiguresFile = { machine: machine(), updatedAt: '', scenarios: {} };
    try {
      current = JSON.parse(readFileSync(FIGURES_FILE, 'utf8')) as FiguresFile;
    } catch {
      // first run, or a broken file: start over
    }
    const next: FiguresFile = { machine: machine(), updatedAt: new Date().toISOString(), scenarios: { ...current.scenarios, [record.id]: record } };
    const tmp = `${FIGURES_FILE}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`);
    renameSync(tmp, FIGURES_FILE);
  } finally {
    if (locked) rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

function isStale(): boolean {
  try {
    return Date.now() - statSync(LOCK_DIR).mtimeMs > 5_000;
  } catch {
    return false;
  }
}
