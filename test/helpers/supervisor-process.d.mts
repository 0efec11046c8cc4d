import type { Readable } from 'node:stream';

export declare const ROOT: string;
export declare const CLI: string;
export declare const FAKE_GATEWAY: string;

export declare function freePort(): Promise<number>;

export declare function supervisorEnv(options: {
  port: number;
  gatewayPort: number;
  stateDir: string;
  token: string;
  extra?: Record<string, string | undefined>;
}): Record<string, string>;

export declare function eachLine(stream: Readable | NodeJS.ReadableStream, onLine: (line: string) => void): Promise<void>;

export interface LogEntry<R> {
  readonly record: R;
  /** When the line arrived (the reader's clock: Date.now() unless given). */
  readonly at: number;
}

export interface LogReader<R = Record<string, unknown>> {
  readonly output: string[];
  readonly entries: Array<LogEntry<R>>;
  readonly records: R[];
  readonly ended: boolean;
  push(line: string, at?: number): void;
  end(): void;
  waitFor(event: string, test?: (record: R) => boolean, timeoutMs?: number): Promise<LogEntry<R>>;
}

export declare function createLogReader<R = Record<string, unknown>>(options?: { keepLines?: number }): LogReader<R>;
