import type { Logger } from 'pino';
import { EVENT_LEVELS, type EventFields, type EventName, type Level, type LevelOf, type SupervisorEvent } from './events.js';

export type EventListener = (event: SupervisorEvent) => void;

/** Per logger, so that two loggers (two supervisors in one test process) never hear each other. */
const listenersOf = new WeakMap<Logger, EventListener[]>();

/** No level to pass for an event written at one level; one of its levels for the others. */
export type LevelChoice<N extends EventName> = (typeof EVENT_LEVELS)[N] extends readonly [Level] ? [] : [level: LevelOf<N>];

/**
 * Writes one stable event (events.ts) as the pino record `{ event: name, ...fields }` with `message`,
 * after handing it to the listeners: they get it whatever the logger's level (metrics and alerts
 * count what is not printed too), with the fields as given (the one redaction is on the way out).
 */
export function emit<N extends EventName>(logger: Logger, name: N, fields: EventFields[N], message: string, ...level: LevelChoice<N>): void {
  const listeners = listenersOf.get(logger);
  if (listeners !== undefined && listeners.length > 0) {
    const event = { name, fields } as SupervisorEvent;
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch {
        // a listener's fault never costs the record
      }
    }
  }
  const chosen: Level = (level as readonly Level[])[0] ?? EVENT_LEVELS[name][0];
  const record: Readonly<Record<string, unknown>> = { event: name, ...fields };
  logger[chosen](record, message);
}

/** Calls `listener` with every event emitted on `logger` from now on. Returns the unsubscribe. */
export function subscribe(logger: Logger, listener: EventListener): () => void {
  const listeners = listenersOf.get(logger) ?? [];
  listenersOf.set(logger, listeners);
  listeners.push(listener);
  return () => {
    const index = listeners.indexOf(listener);
    if (index !== -1) listeners.splice(index, 1);
  };
}
