import type { TaskRecord } from '../../api/store/types.js';
import type { Config } from '../../common/config/types.js';
import { ExitStatus } from '../../common/exit.js';
import { apiPost } from './client.js';
import { type ApiChoice, apiTarget } from './target.js';

/** `taskqueue retry ID`: POST /v1/tasks/ID/retry (role retry); prints the task's new run. */
export async function retryTaskCommand(
  config: Config,
  choice: ApiChoice & { id: string; json: boolean },
  out: (line: string) => void,
): Promise<number> {
  const target = apiTarget(config, choice);
  const answer = (await apiPost(
    target,
    `/v1/tasks/${encodeURIComponent(choice.id)}/retry`,
    {},
  )) as {
    task: TaskRecord;
  };
  if (choice.json) out(JSON.stringify(answer.task));
  else out(`task ${answer.task.id} retried: run ${answer.task.run ?? 1}, ${answer.task.state}`);
  return ExitStatus.OK;
}

/** `taskqueue cancel ID`: POST /v1/tasks/ID/cancel (role operate); the cancel is asked for. */
export async function cancelTaskCommand(
  config: Config,
  choice: ApiChoice & { id: string; json: boolean },
  out: (line: string) => void,
): Promise<number> {
  const target = apiTarget(config, choice);
  const answer = (await apiPost(
    target,
    `/v1/tasks/${encodeURIComponent(choice.id)}/cancel`,
    {},
  )) as {
    task: TaskRecord;
  };
  if (choice.json) out(JSON.stringify(answer.task));
  else
    out(
      `task ${answer.task.id} cancel requested (was ${answer.task.state}): \`taskqueue task ${answer.task.id}\` shows when it is cancelled`,
    );
  return ExitStatus.OK;
}
