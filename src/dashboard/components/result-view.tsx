import { pretty } from '../format';

/** A failed task's result carries `error` and `trace` (the plugin's stack) as strings. */
function traceOf(result: unknown): string | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const trace = (result as { trace?: unknown }).trace;
  return typeof trace === 'string' && trace !== '' ? trace : undefined;
}

/** A result as JSON, its trace (when it has one) first, with its line breaks. */
export function ResultView({ result }: { result: unknown }) {
  const trace = traceOf(result);
  return (
    <>
      {trace && (
        <>
          <h3>Trace</h3>
          <pre class="log error-trace">{trace}</pre>
        </>
      )}
      <pre class="json">{pretty(result)}</pre>
    </>
  );
}
