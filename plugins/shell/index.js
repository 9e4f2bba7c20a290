// @ts-check
/**
 * taskqueue-plugin-shell: the worker type `shell` (or any type this package is installed as) runs
 * the command named by the `command` key of its INI section for every task. The workitem goes to
 * the command's stdin as JSON; the JSON object the command writes to stdout is the result.
 *
 * The command comes from the settings only, never from the workitem: whoever can submit tasks
 * must not be able to choose what runs. See README.md for the settings.
 */
import { BaseWorker, NonRetryableError } from '@taskqueue/plugin-api';
import { findProgram, isDirectory } from './lib/find-program.js';
import { KILL_GRACE_MS, runCommand } from './lib/run-command.js';
import { parseSettings, SettingsError, sectionOf } from './lib/settings.js';
import { taskIdForEnv } from './lib/task-id.js';

/** @typedef {import('@taskqueue/plugin-api').Workitem} Workitem */
/** @typedef {import('@taskqueue/plugin-api').TaskContext} TaskContext */
/** @typedef {import('@taskqueue/plugin-api').SetupContext} SetupContext */
/** @typedef {import('./lib/settings.js').CommandSpec} CommandSpec */

export { CommandFailedError, KILL_GRACE_MS, MAX_STDOUT_BYTES } from './lib/run-command.js';
export { SettingsError } from './lib/settings.js';

/** How much of a bad stdout an error message quotes. */
const QUOTED_STDOUT_CHARS = 200;

export default class ShellWorker extends BaseWorker {
  /** Milliseconds between SIGTERM and SIGKILL when a task is aborted. */
  killGraceMs = KILL_GRACE_MS;

  /** @type {CommandSpec | undefined} */
  #spec;

  /** @type {string | undefined} */
  #type;

  /**
   * Validates the settings once, before the first task: a missing or malformed key, a `cwd` that
   * is not a directory or a program that cannot be found fails here, naming the key and section.
   *
   * @override
   * @param {SetupContext} ctx
   */
  async setup(ctx) {
    const section = sectionOf(ctx.type, ctx.instance);
    const spec = parseSettings(ctx.settings, section);
    if (spec.cwd !== undefined && !(await isDirectory(spec.cwd))) {
      throw new SettingsError(
        `shell plugin: setting "cwd" in section ${section} is not a directory: ${spec.cwd}`,
      );
    }
    const pathVar = spec.env.PATH ?? process.env.PATH;
    const program = await findProgram(spec.file, pathVar, spec.cwd ?? process.cwd());
    if (program === undefined) {
      throw new SettingsError(
        `shell plugin: setting "command" in section ${section}: program "${spec.file}" ` +
          (spec.file.includes('/')
            ? 'is not an executable file'
            : `is not found in PATH (${pathVar ?? 'unset'})`),
      );
    }
    this.#spec = spec;
    this.#type = ctx.type;
    ctx.logger.info({ command: spec.label, program, cwd: spec.cwd }, 'shell plugin ready');
  }

  /**
   * Runs the command with the workitem on stdin and returns what it printed, parsed.
   *
   * @param {Workitem} workitem
   * @param {TaskContext} ctx
   * @returns {Promise<Workitem>} the JSON object the command wrote to stdout, or the input
   *   workitem unchanged if it wrote nothing
   */
  async handleTask(workitem, ctx) {
    // setup() normally did this; a host that skipped it still gets validated settings.
    if (this.#spec === undefined) {
      this.#spec = parseSettings(ctx.settings, sectionOf(undefined, undefined));
    }
    const spec = this.#spec;
    /** @type {NodeJS.ProcessEnv} */
    const env = {
      ...process.env,
      ...spec.env,
      // The sender chooses the id: only safe characters reach the environment (lib/task-id.js).
      TASKQUEUE_TASK_ID: taskIdForEnv(ctx.taskId),
      TASKQUEUE_ATTEMPT: String(ctx.attempt),
    };
    if (this.#type !== undefined) env.TASKQUEUE_WORKER_TYPE = this.#type;

    const { stdout } = await runCommand({
      spec,
      env,
      input: `${JSON.stringify(workitem)}\n`,
      signal: ctx.signal,
      killGraceMs: this.killGraceMs,
      logger: ctx.logger,
    });
    return parseResult(stdout, workitem, spec.label);
  }
}

/**
 * @param {string} stdout
 * @param {Workitem} input
 * @param {string} label
 * @returns {Workitem}
 */
function parseResult(stdout, input, label) {
  const text = stdout.trim();
  if (text === '') return input;
  /** @type {unknown} */
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw new NonRetryableError(
      `${label} wrote something that is not JSON to stdout (it must write one JSON object, ` +
        `the result, or nothing); stdout begins with: ${quote(text)}`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new NonRetryableError(
      `${label} wrote JSON that is not an object to stdout (it must write one JSON object, ` +
        `the result, or nothing); stdout begins with: ${quote(text)}`,
    );
  }
  return /** @type {Workitem} */ (value);
}

/** @param {string} text */
function quote(text) {
  const head = text.slice(0, QUOTED_STDOUT_CHARS);
  return JSON.stringify(head) + (text.length > head.length ? '…' : '');
}
