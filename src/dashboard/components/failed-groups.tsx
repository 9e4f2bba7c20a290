import { HEALTHY_GROUP_STATES, type PoolsReport } from '../api/types';
import { StateBadge } from './state-badge';

/** Every group that does not serve (failed, delaying, idle…), with its host: what needs a look. */
export function FailedGroups({ report }: { report: PoolsReport }) {
  const failed = report.pools.flatMap((pool) =>
    (pool.groups ?? [])
      .filter((group) => !HEALTHY_GROUP_STATES.includes(group.state))
      .map((group) => ({ pool, group })),
  );
  if (failed.length === 0) return <p data-testid="failed-groups">none</p>;
  return (
    <ul class="failed-groups" data-testid="failed-groups">
      {failed.map(({ pool, group }) => (
        <li key={`${pool.host}/${pool.pid}/${group.name}`}>
          <strong>{group.name}</strong> on {pool.host} (pool pid {pool.pid}):{' '}
          <StateBadge state={group.state} />
          {group.restarts ? `, ${group.restarts} restarts` : ''}
        </li>
      ))}
    </ul>
  );
}
