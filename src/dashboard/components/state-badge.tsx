/** The tone of a state: its color backs the word, never replaces it. */
export function stateTone(state: string): 'ok' | 'bad' | 'warn' | 'busy' | 'idle' {
  switch (state) {
    case 'succeeded':
    case 'running':
    case 'serving':
      return 'ok';
    case 'failed':
    case 'poisoned':
    case 'invalid':
    case 'expired':
    case 'incomplete':
    case 'stale':
    case 'dead':
    case 'exited':
      return 'bad';
    case 'retrying':
    case 'cancelled':
    case 'stopping':
    case 'starting':
    case 'delaying':
    case 'retiring':
      return 'warn';
    case 'submitted':
    case 'queued':
    case 'delayed':
    case 'dispatched':
      return 'busy';
    default:
      return 'idle';
  }
}

/**
 * The state as a word in a colored pill. The spaces around the word are there for whoever reads
 * the row's text (a test, a copy and paste): "echo succeeded 12/7", not "echosucceeded12/7".
 * The pill is an inline-block: they do not show.
 */
export function StateBadge({ state, testId }: { state: string; testId?: string }) {
  return (
    <span class={`state state-${stateTone(state)}`} data-testid={testId}>
      {` ${state} `}
    </span>
  );
}
