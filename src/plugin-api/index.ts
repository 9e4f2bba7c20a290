/**
 * The API between taskqueue and its worker plugins.
 *
 * A plugin is an npm package named `taskqueue-plugin-<type>` whose default export is a class with
 * a `handleTask` method (usually a subclass of {@link BaseWorker}). It declares the API range it
 * needs in its package.json, `"taskqueue": { "api": "^1.1.0" }`; the host checks that range
 * against {@link apiVersion} by value, so a plugin may bring its own copy of this package, or
 * leave it out (an optional peer dependency) and get the host's.
 *
 * For a plugin's own tests, `@taskqueue/plugin-api/testing` runs a worker as the host does.
 *
 * @packageDocumentation
 */

/** The version of this API. The host refuses plugins whose declared range does not include it. */
export const apiVersion = '1.1.0';

/**
 * A Ruote workitem: the JSON document that travels through the queues. `fields` holds the task's
 * data; `fields.params.worker_type` names the worker type. Other keys are kept as they are.
 */
export interface Workitem {
  fields: {
    params?: { worker_type?: string; [key: string]: unknown };
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** The structured logger a plugin gets; every line carries the task's ids. */
export interface TaskLogger {
  /** Logs at debug level: a fields object and a message, or just a message. */
  debug(obj: object | string, msg?: string): void;
  /** Logs at info level. */
  info(obj: object | string, msg?: string): void;
  /** Logs at warn level. */
  warn(obj: object | string, msg?: string): void;
  /** Logs at error level. */
  error(obj: object | string, msg?: string): void;
}

/** The settings of the plugin: every key of its INI sections, instance → type → DEFAULT. */
export type Settings = Readonly<Record<string, string>>;

/** What a plugin learns once per child, before the first task. */
export interface SetupContext {
  /** The worker type, e.g. `echo`. */
  type: string;
  /** The instance name when the group is `<type>_<instance>`, else undefined. */
  instance: string | undefined;
  /** The group's settings (see {@link Settings}). */
  settings: Settings;
  /** A logger whose lines carry the group and type. */
  logger: TaskLogger;
}

/** What a plugin learns about the task it is handling. */
export interface TaskContext {
  /** The group's settings, the same every task (see {@link Settings}). */
  settings: Settings;
  /** A logger whose lines carry the task's ids. */
  logger: TaskLogger;
  /** Fires when the task must stop: its timeout passed, or the child is shutting down. */
  signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  attempt: number;
  /** The task's id: the message's correlation_id, else its message_id, else one made up. */
  taskId: string;
}

/** Publishes a result; resolves once the broker has confirmed it. */
export type PublishResult = (workitem: Workitem) => Promise<void>;

/**
 * The base class of worker plugins. Subclasses implement {@link BaseWorker.handleTask}; the other
 * methods are optional hooks with harmless defaults.
 */
export abstract class BaseWorker {
  /**
   * Handles one task. Return the result workitem, or nothing to return the input workitem (which
   * may have been changed in place). Throw to fail the task: a {@link NonRetryableError} is
   * reported at once, any other error is retried up to `max_attempts`.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: lets a subclass's `async handleTask` return nothing.
  abstract handleTask(workitem: Workitem, ctx: TaskContext): Promise<Workitem | undefined | void>;

  /** Runs once per child before it consumes; a throw here stops the child from starting. */
  async setup(_ctx: SetupContext): Promise<void> {}

  /** Runs once when the child stops. */
  async teardown(): Promise<void> {}

  /**
   * Sends the result where it goes. Override to track results elsewhere, or to send none; the
   * default publishes to the configured results exchange and routing key (or to `reply_to`).
   */
  async reportResults(workitem: Workitem, publish: PublishResult): Promise<void> {
    await publish(workitem);
  }
}

/**
 * Thrown by a plugin for a failure that retrying cannot fix (bad input, say): the task's error
 * result is published at once. The host recognises it by its `nonRetryable` flag, not by class.
 */
export class NonRetryableError extends Error {
  /** The flag the host recognises, whichever copy of this package made the error. */
  readonly nonRetryable = true;

  /** `options.cause` is kept as the error's `cause`, as with `Error`. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}

/** True when `err` asks not to be retried, whichever copy of this package created it. */
export function isNonRetryable(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { nonRetryable?: unknown }).nonRetryable === true
  );
}
