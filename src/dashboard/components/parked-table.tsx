import type { ParkedTask } from '../api/types';
import { count } from '../format';
import { hrefs } from '../router';
import { TableBox } from './table-box';
import { Time } from './time';

/** The id a parked task is named by in requeue and drop (message id, else correlation id). */
export function parkedId(task: ParkedTask): string {
  return task.message_id ?? task.correlation_id ?? '';
}

export function ParkedTable({
  tasks,
  caption,
  selected,
  onSelect,
  canRequeue,
  canDrop,
  busy,
  onRequeue,
  onDrop,
}: {
  tasks: ParkedTask[];
  caption: string;
  selected: ReadonlySet<string>;
  onSelect: (id: string, on: boolean) => void;
  canRequeue: boolean;
  canDrop: boolean;
  busy: boolean;
  onRequeue: (id: string) => void;
  onDrop: (id: string) => void;
}) {
  const selectable = canRequeue || canDrop;
  return (
    <TableBox label="Parked tasks table">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {selectable && (
              <th scope="col">
                <span class="visually-hidden">select</span>
              </th>
            )}
            <th scope="col">id</th>
            <th scope="col">type</th>
            <th scope="col">reason</th>
            <th scope="col">code</th>
            <th scope="col" class="num">
              attempt
            </th>
            <th scope="col" class="num">
              crashes
            </th>
            <th scope="col">parked</th>
            {selectable && <th scope="col">actions</th>}
          </tr>
        </thead>
        <tbody>
          {tasks.length === 0 && (
            <tr>
              <td colSpan={selectable ? 9 : 7} class="muted">
                Nothing is parked here.
              </td>
            </tr>
          )}
          {tasks.map((task) => {
            const id = parkedId(task);
            return (
              <tr key={id}>
                {selectable && (
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${id}`}
                      checked={selected.has(id)}
                      onChange={(e) => onSelect(id, e.currentTarget.checked)}
                    />
                  </td>
                )}
                <th scope="row" class="mono">
                  <a href={hrefs.task(id)}>{id}</a>
                </th>
                <td>{task.type ?? '—'}</td>
                <td class="reason">{task.reason ?? '—'}</td>
                <td class="mono">{task.code ?? '—'}</td>
                <td class="num">{count(task.attempt)}</td>
                <td class="num">{count(task.crashes)}</td>
                <td>
                  <Time iso={task.parked_at} />
                </td>
                {selectable && (
                  <td class="row-actions">
                    {canRequeue && (
                      <button type="button" disabled={busy} onClick={() => onRequeue(id)}>
                        Requeue
                      </button>
                    )}
                    {canDrop && (
                      <button
                        type="button"
                        class="danger"
                        disabled={busy}
                        onClick={() => onDrop(id)}
                      >
                        Drop
                      </button>
                    )}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </TableBox>
  );
}
