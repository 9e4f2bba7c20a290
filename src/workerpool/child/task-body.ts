import { isUtf8 } from 'node:buffer';
import { TqError } from '../../common/errors.js';

/**
 * Refuses a task body the child must not parse: one larger than `max_body_size` (JSON.parse of
 * it would hold the child's event loop and memory for as long as it takes), or one that is not
 * valid UTF-8 (decoding would turn it into U+FFFD in the plugin's input, where the dispatcher
 * parks it). Tasks published straight to `worker_<type>` never passed the dispatcher's checks.
 *
 * The size check is a comparison; isUtf8 is one native pass over the body, well below the cost of
 * the decode and JSON.parse that follow it.
 */
export function checkTaskBody(content: Buffer, maxBodySize: number): void {
  if (content.length > maxBodySize) {
    throw new TqError(
      'TQ_ERR_TASK_TOO_LARGE',
      `task body of ${content.length} bytes is larger than max_body_size (${maxBodySize} bytes)`,
    );
  }
  if (!isUtf8(content)) throw new TqError('TQ_ERR_TASK_NOT_UTF8', 'task body is not valid UTF-8');
}
