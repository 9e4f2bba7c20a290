import { HEALTHY_GROUP_STATES, type PoolsReport } from '../api/types';
import { count, inHandText } from '../format';
import { StateBadge } from './state-badge';
import { TableBox } from './table-box';
import { Time } from './time';

/** One row per group of every pool (a pool without groups gets one row of its own). */
export function PoolsTable({ report }: { report: PoolsReport }) {
  if (!report.heartbeats)
    return (
      <p class="note">
        No heartbeats: tracking is off on this API (<code>[tracking] enabled = yes</code>).
      </p>
    );
  if (report.pools.length === 0) return <p>No pool has sent a heartbeat yet.</p>;
  return (
    <TableBox label="Pools table">
      <table>
        <caption>Worker pools by host, with their groups and children</caption>
        <thead>
          <tr>
            <th scope="col">host</th>
            <th scope="col">pool</th>
            <th scope="col">group</th>
            <th scope="col">group state</th>
            <th scope="col">user</th>
            <th scope="col" class="num">
              wanted/running
            </th>
            <th scope="col" class="num">
              restarts
            </th>
            <th scope="col">children (pid state)</th>
          </tr>
        </thead>
        <tbody>
          {report.pools.flatMap((pool) => {
            const poolCell = (
              <td>
                <StateBadge state={pool.state} /> <span class="muted">pid {pool.pid}</span>
                <br />
                <span class="muted">
                  seen <Time iso={pool.receivedAt ?? pool.at} />
                </span>
              </td>
            );
            const groups = pool.groups ?? [];
            if (groups.length === 0)
              return [
                <tr key={`${pool.host}/${pool.pid}`}>
                  <th scope="row">{pool.host}</th>
                  {poolCell}
                  <td colSpan={6} class="muted">
                    no groups
                  </td>
                </tr>,
              ];
            return groups.map((group) => (
              <tr
                key={`${pool.host}/${pool.pid}/${group.name}`}
                class={HEALTHY_GROUP_STATES.includes(group.state) ? undefined : 'flagged'}
              >
                <th scope="row">{pool.host}</th>
                {poolCell}
                <td class="mono">{group.name}</td>
                <td>
                  <StateBadge state={group.state} />
                  {!HEALTHY_GROUP_STATES.includes(group.state) && (
                    <strong class="flag"> needs attention</strong>
                  )}
                </td>
                <td>{group.user ?? '—'}</td>
                <td class="num">
                  {count(group.wanted)}/{count(group.running)}
                </td>
                <td class="num">{count(group.restarts)}</td>
                <td>
                  {(group.children ?? []).length === 0 ? (
                    <span class="muted">none</span>
                  ) : (
                    <ul class="children">
                      {(group.children ?? []).map((child) => (
                        <li key={child.pid}>
                          <span class="mono">{child.pid}</span> <StateBadge state={child.state} />
                          {child.inHand ? (
                            <div class="muted">{inHandText(child.inHand, child.waiting)}</div>
                          ) : null}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
              </tr>
            ));
          })}
        </tbody>
      </table>
    </TableBox>
  );
}
