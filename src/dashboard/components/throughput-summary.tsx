import type { Throughput } from '../api/types';
import { plural } from '../format';
import { failuresOf } from './throughput-chart';
import { Time } from './time';

/** The chart in words: totals over the window and the busiest bucket. */
export function ThroughputSummary({ data }: { data: Throughput }) {
  let succeeded = 0;
  let failures = 0;
  let busiest = data.buckets[0];
  for (const bucket of data.buckets) {
    succeeded += bucket.succeeded;
    failures += failuresOf(bucket);
    if (busiest && bucket.succeeded + failuresOf(bucket) > busiest.succeeded + failuresOf(busiest))
      busiest = bucket;
  }
  const busiestCount = busiest ? busiest.succeeded + failuresOf(busiest) : 0;
  const per = data.step === 60 ? 'minute' : data.step === 3600 ? 'hour' : `${data.step / 60} min`;
  return (
    <div class="summary" data-testid="throughput-summary">
      <p>
        Since <Time iso={data.since} />: <strong>{succeeded}</strong> succeeded,{' '}
        <strong>{failures}</strong> {failures === 1 ? 'failure' : 'failures'} (failed, poisoned,
        invalid, expired or incomplete), per {per}.
      </p>
      {busiest && busiestCount > 0 ? (
        <p>
          Busiest {per}: <Time iso={busiest.at} /> with {plural(busiestCount, 'task')}.
        </p>
      ) : (
        <p>No task finished in this time.</p>
      )}
    </div>
  );
}
