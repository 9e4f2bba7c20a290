import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  BaseWorker,
  NonRetryableError,
  type SetupContext,
  type TaskContext,
  type Workitem,
} from '@taskqueue/plugin-api';

/** Words counted between two looks at the signal: small enough that a timeout stops us soon. */
const WORDS_PER_SLICE = 10_000;

/**
 * Counts the words of `fields.text` into `fields.word_count`. A word shorter than the setting
 * `min_length` (characters, default 1) is not counted.
 */
export default class Worker extends BaseWorker {
  #minLength = 1;

  /** Once per child, before its first task: a bad setting stops the child, not every task. */
  override async setup(ctx: SetupContext): Promise<void> {
    this.#minLength = parseMinLength(ctx.settings.min_length);
    ctx.logger.info({ minLength: this.#minLength }, 'ready to count');
  }

  override async handleTask(workitem: Workitem, ctx: TaskContext): Promise<Workitem> {
    const text = workitem.fields.text;
    // Retrying cannot turn a missing text into one: fail at once, with no retries.
    if (typeof text !== 'string') {
      throw new NonRetryableError('fields.text must be a string');
    }
    const words = text.split(/\s+/).filter((word) => word.length > 0);
    let count = 0;
    for (let start = 0; start < words.length; start += WORDS_PER_SLICE) {
      // A loop that never yields never sees its signal fire: look, and let timers run.
      ctx.signal.throwIfAborted();
      for (const word of words.slice(start, start + WORDS_PER_SLICE)) {
        if (word.length >= this.#minLength) count += 1;
      }
      await nextTurn();
    }
    ctx.logger.debug({ words: words.length, counted: count }, 'counted');
    workitem.fields.word_count = count;
    return workitem;
  }
}

/** The setting `min_length`: a whole number of characters, at least 1. */
function parseMinLength(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new Error(`min_length = ${value}: expected a whole number of characters, at least 1`);
  }
  return parsed;
}
