import type { QueuesReport } from '../api/types';
import { count, rate } from '../format';
import { TableBox } from './table-box';

/** GET /v1/queues as a table; what the source cannot tell is said, not shown as zero. */
export function QueuesTable({ report }: { report: QueuesReport }) {
  const queues = report.queues.filter((queue) => queue.exists);
  return (
    <>
      {report.unknown.length > 0 && (
        <p class="note">
          From {report.source === 'passive' ? 'passive declares' : report.source}: no{' '}
          {report.unknown.join(', ')} (shown as —)
          {report.management_error
            ? `; the management API: ${report.management_error.message}`
            : ''}
          .
        </p>
      )}
      <TableBox label="Queues table">
        <table>
          <caption>Queues of the system ({queues.length})</caption>
          <thead>
            <tr>
              <th scope="col">name</th>
              <th scope="col">role</th>
              <th scope="col" class="num">
                ready
              </th>
              <th scope="col" class="num">
                unacked
              </th>
              <th scope="col" class="num">
                consumers
              </th>
              <th scope="col" class="num">
                in/s
              </th>
              <th scope="col" class="num">
                out/s
              </th>
            </tr>
          </thead>
          <tbody>
            {queues.map((queue) => (
              <tr key={queue.name}>
                <td class="mono">{queue.name}</td>
                <td>{queue.role}</td>
                <td class="num">{count(queue.ready)}</td>
                <td class="num">{count(queue.unacked)}</td>
                <td class="num">{count(queue.consumers)}</td>
                <td class="num">{rate(queue.rate_in)}</td>
                <td class="num">{rate(queue.rate_out)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableBox>
    </>
  );
}
