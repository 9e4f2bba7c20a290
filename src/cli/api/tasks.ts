import type { TaskRecord } from '../../api/store/types.js';
import type { Config } from '../../common/config/types.js';
import { TqError } from '../../common/errors.js';
import { ExitStatus } from '../../common/exit.js';
import { apiGet } from './client.js';
import { type ApiChoice, apiTarget } from './target.js';
import { taskLines, taskListLines } from './task-lines.js';

/** `taskqueue task ID`: one task from the API (its attempts, responses and result). */
export async function showTask(
  config: Config,
  choice: ApiChoice & { id: string; json: boolean },
  out: (line: string) => void,
): Promise<number> {
  const target = apiTarget(config, choice);
  const { task } = (await apiGet(target, `/v1/tasks/${encodeURIComponent(choice.id)}`)) as {
    task: TaskRecord;
  };
  if (choice.json) out(JSON.stringify(task));
  else for (const line of taskLines(task)) out(line);
  return ExitStatus.OK;
}

export interface TasksFilter {
  state: string[];
  type: string | undefined;
  since: string | undefined;
  until: string | undefined;
  /** `path=value`: a workitem field under `fields`. */
  field: string[];
  limit: number | undefined;
  cursor: string | undefined;
}

/** `taskqueue tasks`: one page of tasks by state, type, time and field, newest first. */
export async function listTasks(
  config: Config,
  choice: ApiChoice & TasksFilter & { json: boolean },
  out: (line: string) => void,
): Promise<number> {
  const query = tasksQuery(choice);
  const target = apiTarget(config, choice);
  const page = (await apiGet(target, `/v1/tasks${query}`)) as {
    tasks: TaskRecord[];
    next?: string;
  };
  if (choice.json) out(JSON.stringify(page));
  else for (const line of taskListLines(page.tasks, page.next)) out(line);
  return ExitStatus.OK;
}

/** The query string of GET /v1/tasks; a `--field` without `=` is a usage error (64). */
export function tasksQuery(filter: TasksFilter): string {
  const query = new URLSearchParams();
  if (filter.state.length > 0) query.set('state', filter.state.join(','));
  if (filter.type !== undefined) query.set('type', filter.type);
  if (filter.since !== undefined) query.set('since', filter.since);
  if (filter.until !== undefined) query.set('until', filter.until);
  for (const field of filter.field) {
    const cut = field.indexOf('=');
    if (cut < 1) throw new TqError('TQ_ERR_CLI_USAGE', `--field wants PATH=VALUE: ${field}`);
    query.set(`field.${field.slice(0, cut)}`, field.slice(cut + 1));
  }
  if (filter.limit !== undefined) {
    if (!(Number.isSafeInteger(filter.limit) && filter.limit >= 1 && filter.limit <= 1000))
      throw new TqError('TQ_ERR_CLI_USAGE', '--limit must be an integer from 1 to 1000');
    query.set('limit', String(filter.limit));
  }
  if (filter.cursor !== undefined) query.set('cursor', filter.cursor);
  const text = query.toString();
  return text === '' ? '' : `?${text}`;
}
