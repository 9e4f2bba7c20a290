import type { TaskRecord } from '../../api/store/types.js';
import type { Config } from '../../common/config/types.js';
import { ExitStatus } from '../../common/exit.js';
import { apiPost } from './client.js';
import { type ApiChoice, apiTarget } from './target.js';

type ActionChoice = ApiChoice & { id: string; json: boolean };

/**
 * POST /v1/tasks/ID/ACTION with an empty body; prints the task the API answers with, as JSON or
 * as the line `describe` makes of it.
 */
async function postTaskAction(
  config: Config,
  choice: ActionChoice,
  action: 'retry' | 'cancel',
  describe: (task: TaskRecord) => string,
  out: (line: string) => void,
): Promise<number> {
  const path = `/v1/tasks/${encodeURIComponent(choice.id)}/${action}`;
  const { task } = (await apiPost(apiTarget(config, choice), path, {})) as { task: TaskRecord };
  out(choice.json ? JSON.stringify(task) : describe(task));
  return ExitStatus.OK;
}

/** `taskqueue retry ID`: POST /v1/tasks/ID/retry (role retry); prints the task's new run. */
export function retryTaskCommand(
  config: Config,
  choice: ActionChoice,
  out: (line: string) => void,
): Promise<number> {
  return postTaskAction(
    config,
    choice,
    'retry',
    (task) => `task ${task.id} retried: run ${task.run ?? 1}, ${task.state}`,
    out,
  );
}

/** `taskqueue cancel ID`: POST /v1/tasks/ID/cancel (role operate); the cancel is asked for. */
export function cancelTaskCommand(
  config: Config,
  choice: ActionChoice,
  out: (line: string) => void,
): Promise<number> {
  return postTaskAction(
    config,
    choice,
    'cancel',
    (task) =>
      `task ${task.id} cancel requested (was ${task.state}): \`taskqueue task ${task.id}\` shows when it is cancelled`,
    out,
  );
}
