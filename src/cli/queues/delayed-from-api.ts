import type { TaskRecord } from '../../api/store/types.js';
import type { Config } from '../../common/config/types.js';
import { hasCode, TqError } from '../../common/errors.js';
import { apiGet } from '../api/client.js';
import { type ApiChoice, apiTarget } from '../api/target.js';
import { type DelayedTask, soonestDelayed } from './delayed.js';

/**
 * The delayed tasks due soonest, from taskqueue-api (GET /v1/tasks?state=delayed): the broker
 * keeps a delayed task in a level queue that cannot be read without taking it, so only the API's
 * store can say which tasks wait and until when.
 */

/** Pages read at most: the list is by creation, not due time, so all of them are read. */
const MAX_PAGES = 10;
const PAGE = 1000;

/** What `taskqueue queues` says instead when it cannot ask. */
export const LIST_DELAYED_HINT =
  'delayed tasks: `taskqueue tasks --state delayed` lists them with their due time (it asks taskqueue-api: --api URL, TASKQUEUE_API_URL or [api] url)';

export async function soonestFromApi(
  config: Config,
  choice: ApiChoice,
): Promise<{ soonest: DelayedTask[] | null; note: string | null }> {
  let target: ReturnType<typeof apiTarget>;
  try {
    target = apiTarget(config, choice);
  } catch (err) {
    if (hasCode(err, 'TQ_ERR_CLI_NO_API')) return { soonest: null, note: LIST_DELAYED_HINT };
    throw err;
  }
  const tasks: TaskRecord[] = [];
  let cursor: string | undefined;
  try {
    for (let page = 0; page < MAX_PAGES; page++) {
      const query = `?state=delayed&limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const answer = (await apiGet(target, `/v1/tasks${query}`)) as {
        tasks: TaskRecord[];
        next?: string;
      };
      tasks.push(...answer.tasks);
      cursor = answer.next;
      if (cursor === undefined) break;
    }
  } catch (err) {
    if (!(err instanceof TqError)) throw err;
    return {
      soonest: null,
      note: `delayed tasks: not listed (${err.message} [${err.code}]); \`taskqueue tasks --state delayed\` lists them`,
    };
  }
  const more =
    cursor === undefined
      ? null
      : `delayed tasks: only the newest ${MAX_PAGES * PAGE} were read; some due sooner may be missing`;
  return { soonest: soonestDelayed(tasks), note: more };
}
