import { hostname, userInfo } from 'node:os';
import { copyOfJson, cutUtf8 } from '../../common/tracking/copy.js';
import type { EventName, WireEvent } from '../../common/tracking/event.js';
import {
  CRASH_LOG_LINE_CHARS,
  CRASH_LOG_MAX_LINES,
  ERROR_CAP_CHARS,
} from '../../common/tracking/limits.js';
import { publishEvent, trackedIdOf, trackedRunOf } from '../../common/tracking/publish.js';
import type { TaskInHand } from './task.js';

/** What a final event says beyond the task and its attempt. */
export interface FinalFacts {
  result?: unknown;
  error?: string;
  errorCode?: string;
  crashLog?: string[];
}

/**
 * A child's lifecycle events ([tracking] enabled), on the channel its task came on. `started`
 * and `retrying` are best-effort: not awaited, a failure only logged. A final event is awaited
 * by OutcomePolicy before the task's ack, and a failure to confirm it fails the settlement as a
 * refused result would: the task is not acked, and comes back.
 */
export class ChildEvents {
  readonly #host = hostname();
  readonly #pid = process.pid;
  readonly #user = userName();

  started(task: TaskInHand): void {
    const event = this.#event(task, 'started');
    if (!event) return;
    event.host = this.#host;
    event.pid = this.#pid;
    event.user = this.#user;
    this.#bestEffort(task, event);
  }

  retrying(task: TaskInHand, delayMs: number, error: string): void {
    const event = this.#event(task, 'retrying');
    if (!event) return;
    event.nextAttemptAt = new Date(Date.now() + delayMs).toISOString();
    event.error = cutUtf8(error, ERROR_CAP_CHARS);
    this.#bestEffort(task, event);
  }

  /** Resolves once the broker confirmed it (at once for a task without an id). */
  async final(
    task: TaskInHand,
    name: Extract<EventName, 'succeeded' | 'failed' | 'poisoned' | 'expired' | 'cancelled'>,
    facts: FinalFacts,
  ): Promise<void> {
    const event = this.#event(task, name);
    if (!event) return;
    event.durationMs = task.durationMs;
    if (facts.error !== undefined) event.error = cutUtf8(facts.error, ERROR_CAP_CHARS);
    if (facts.errorCode !== undefined) event.errorCode = facts.errorCode.slice(0, 255);
    if (facts.crashLog !== undefined) {
      event.crashLog = facts.crashLog
        .slice(-CRASH_LOG_MAX_LINES)
        .map((line) => line.slice(0, CRASH_LOG_LINE_CHARS));
    }
    if (facts.result !== undefined) {
      const json = jsonOf(facts.result);
      if (json !== undefined) {
        const copy = copyOfJson(json);
        event.result = copy.value;
        if (copy.truncated) event.truncated = true;
      }
    }
    await publishEvent(task.tools.publisher, event);
  }

  #event(task: TaskInHand, name: EventName): WireEvent | undefined {
    const taskId = trackedIdOf(task.message.properties);
    if (taskId === undefined) return undefined;
    const run = trackedRunOf(task.message.properties);
    return {
      v: 1,
      event: name,
      taskId,
      type: task.type,
      at: new Date().toISOString(),
      ...(run === undefined ? {} : { run }),
      attempt: task.attempt,
    };
  }

  #bestEffort(task: TaskInHand, event: WireEvent): void {
    publishEvent(task.tools.publisher, event).catch((err: unknown) => {
      task.log().warn({ err: (err as Error).message, event: event.event }, 'event not published');
    });
  }
}

/** The result's JSON, or undefined when it has none (a BigInt, a cycle: its result said so). */
function jsonOf(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** The child's Unix user by name, as `ps` shows it; its uid when it has no name. */
function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '');
  }
}
