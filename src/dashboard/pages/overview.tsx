import { useEffect, useState } from 'preact/hooks';
import type { PoolsReport, QueuesReport, StateEvent, Throughput } from '../api/types';
import { ErrorAlert } from '../components/alert';
import { DelayedLine } from '../components/delayed-summary';
import { FailedGroups } from '../components/failed-groups';
import { PoolsTable } from '../components/pools-table';
import { QueuesTable } from '../components/queues-table';
import { StateBadge } from '../components/state-badge';
import { ThroughputChart } from '../components/throughput-chart';
import { ThroughputSummary } from '../components/throughput-summary';
import { Time } from '../components/time';
import { hrefs } from '../router';
import { useSession } from '../session';
import { throttle, useLoad } from '../use-load';

/** Queues and pools are not in the event stream: read every 5 s. */
const POLL_MS = 5000;
const RECENT = 8;

export function Overview() {
  const { api, stream } = useSession();
  const queues = useLoad(() => api.get<QueuesReport>('/v1/queues'), [api], POLL_MS);
  const pools = useLoad(() => api.get<PoolsReport>('/v1/pools'), [api], POLL_MS);
  const throughput = useLoad(
    () =>
      api.get<Throughput>('/v1/stats/throughput', {
        since: new Date(Date.now() - 3600_000).toISOString(),
        step: '60',
      }),
    [api],
    60_000,
  );
  const [recent, setRecent] = useState<StateEvent[]>([]);

  useEffect(() => {
    // A finished task moves the chart: read it again, at most every 2 s.
    const again = throttle(throughput.reload, 2000);
    const offEvent = stream.onEvent((event) => {
      setRecent((list) =>
        [event, ...list.filter((e) => e.taskId !== event.taskId)].slice(0, RECENT),
      );
      if (
        !['submitted', 'queued', 'delayed', 'dispatched', 'running', 'retrying'].includes(
          event.state,
        )
      )
        again.call();
    });
    const offResync = stream.onResync(throughput.reload);
    return () => {
      offEvent();
      offResync();
      again.cancel();
    };
  }, [stream, throughput.reload]);

  return (
    <>
      <h1 id="page-title" tabIndex={-1}>
        Overview
      </h1>

      <section aria-labelledby="queues-title">
        <h2 id="queues-title">Queues</h2>
        <ErrorAlert error={queues.error} />
        {queues.data ? (
          <>
            <DelayedLine delayed={queues.data.delayed} />
            <QueuesTable report={queues.data} />
          </>
        ) : (
          !queues.error && <Loading />
        )}
      </section>

      <section aria-labelledby="pools-title">
        <h2 id="pools-title">Pools</h2>
        <ErrorAlert error={pools.error} />
        {pools.data ? <PoolsTable report={pools.data} /> : !pools.error && <Loading />}
      </section>

      <section aria-labelledby="failed-groups-title">
        <h2 id="failed-groups-title">Failed groups</h2>
        {pools.data ? <FailedGroups report={pools.data} /> : !pools.error && <Loading />}
      </section>

      <section aria-labelledby="throughput-title">
        <h2 id="throughput-title">Throughput</h2>
        <ErrorAlert error={throughput.error} />
        {throughput.data ? (
          <div class="throughput">
            <ThroughputChart data={throughput.data} />
            <ThroughputSummary data={throughput.data} />
          </div>
        ) : (
          !throughput.error && <Loading />
        )}
      </section>

      <section aria-labelledby="recent-title">
        <h2 id="recent-title">Recent changes</h2>
        {recent.length === 0 ? (
          <p>No change since this page opened (they appear here live).</p>
        ) : (
          <ul class="recent" aria-live="off">
            {recent.map((event) => (
              <li key={event.taskId}>
                <a href={hrefs.task(event.taskId)}>{event.taskId}</a>{' '}
                <span class="muted">{(event.types ?? [event.type]).join(', ')}</span>{' '}
                <StateBadge state={event.state} /> <Time iso={event.at} />
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

function Loading() {
  return <p class="loading">Loading…</p>;
}
