import type { DispatcherConfig } from '../config/types.js';
import type { ErrorCode } from '../errors.js';

/** Why a task is not taken: the dispatcher parks it, a direct submitter refuses it. */
export interface Refusal {
  ok: false;
  code: ErrorCode;
  reason: string;
}

/**
 * What `[dispatcher] max_body_size` and `[dispatcher] types` let through, checked alike by the
 * dispatcher on its input and by a submitter that publishes direct (docs/direct-path.md): a task
 * the dispatcher would park is refused before it is published.
 */
export class Admission {
  readonly #maxBodySize: number;
  /** `[dispatcher] types` as a set, or undefined for any type. */
  readonly #allowed: Set<string> | undefined;

  constructor(dispatcher: Pick<DispatcherConfig, 'maxBodySize' | 'types'>) {
    this.#maxBodySize = dispatcher.maxBodySize;
    this.#allowed = dispatcher.types === '*' ? undefined : new Set(dispatcher.types);
  }

  /** Checked first: a body too large is not read at all. */
  sizeRefusal(bytes: number): Refusal | undefined {
    if (bytes <= this.#maxBodySize) return undefined;
    return {
      ok: false,
      code: 'TQ_ERR_TASK_TOO_LARGE',
      reason:
        `body of ${bytes} bytes is above [dispatcher] max_body_size ` +
        `(${this.#maxBodySize} bytes); not read`,
    };
  }

  typeRefusal(type: string): Refusal | undefined {
    if (this.#allowed === undefined || this.#allowed.has(type)) return undefined;
    return {
      ok: false,
      code: 'TQ_ERR_TASK_TYPE_NOT_ALLOWED',
      reason: `worker type ${JSON.stringify(type)} is not in [dispatcher] types`,
    };
  }
}
