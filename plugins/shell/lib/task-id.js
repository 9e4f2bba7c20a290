// @ts-check
import { createHash } from 'node:crypto';

/** A task id that means the same quoted or not: no blanks, globs, quotes, `$` or leading `-`. */
const SAFE_TASK_ID = /^[A-Za-z0-9._:][A-Za-z0-9._:-]{0,199}$/;

/**
 * The task id as the command sees it in `TASKQUEUE_TASK_ID`. The id is the sender's correlation
 * id: with `shell: yes`, an unquoted `$TASKQUEUE_TASK_ID` would split into words and globs, and a
 * sender could hand the command arguments (`x --output=/etc/passwd /*`). An id of safe
 * characters goes on as it is; any other is replaced by `sha256-` and the first 32 hex digits
 * of its SHA-256, stable for the same id.
 *
 * @param {string} taskId
 * @returns {string}
 */
export function taskIdForEnv(taskId) {
  if (SAFE_TASK_ID.test(taskId)) return taskId;
  return `sha256-${createHash('sha256').update(taskId).digest('hex').slice(0, 32)}`;
}
