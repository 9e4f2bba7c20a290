import type { Task } from '../api/types';
import { duration, until } from '../format';
import { hrefs } from '../router';
import { StateBadge } from './state-badge';
import { TableBox } from './table-box';
import { Time } from './time';

/**
 * The tasks as rows. When one of them is delayed a "due" column says when each delayed task may
 * start (the others have none).
 */
export function TasksTable({ tasks, caption }: { tasks: Task[]; caption: string }) {
  const due = tasks.some((task) => task.state === 'delayed');
  return (
    <TableBox label="Tasks table">
      <table class="tasks">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">id</th>
            <th scope="col">type</th>
            <th scope="col">state</th>
            <th scope="col">created</th>
            <th scope="col">finished</th>
            <th scope="col" class="num">
              duration
            </th>
            {due && <th scope="col">due</th>}
          </tr>
        </thead>
        <tbody>
          {tasks.length === 0 && (
            <tr>
              <td colSpan={due ? 7 : 6} class="muted">
                No task matches.
              </td>
            </tr>
          )}
          {tasks.map((task) => (
            <tr key={task.id} data-task-id={task.id}>
              <th scope="row" class="mono">
                <a href={hrefs.task(task.id)}>{task.id}</a>
              </th>
              <td>{(task.types ?? [task.type ?? '—']).join(', ')}</td>
              <td>
                <StateBadge state={task.state} />
              </td>
              <td>
                <Time iso={task.createdAt} />
              </td>
              <td>
                <Time iso={task.finishedAt} />
              </td>
              <td class="num">{duration(task.createdAt, task.finishedAt)}</td>
              {due && (
                <td data-testid="task-due">
                  {task.state === 'delayed' && task.notBefore ? (
                    <>
                      <Time iso={task.notBefore} /> ({until(task.notBefore)})
                    </>
                  ) : (
                    '—'
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </TableBox>
  );
}
