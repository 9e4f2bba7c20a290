/** How the dashboard writes durations and counts (times: components/time.tsx). */

export function duration(fromIso: string | undefined, toIso: string | undefined): string {
  if (!fromIso || !toIso) return '—';
  const ms = Date.parse(toIso) - Date.parse(fromIso);
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : String(value);
}

/**
 * A child's tasks in hand, "3 in hand, 2 waiting": the waiting ones are held but not started, the
 * group's `concurrency` reached (a pool older than that count sends none).
 */
export function inHandText(inHand: number, waiting: number | undefined): string {
  return waiting ? `${inHand} in hand, ${waiting} waiting` : `${inHand} in hand`;
}

export function rate(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : value.toFixed(value < 10 ? 1 : 0);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** JSON as the pages show it in a `<pre>`. */
export function pretty(value: unknown): string {
  return value === undefined ? '(none)' : JSON.stringify(value, null, 2);
}

/** How long until `iso` from `nowMs`, for a due time: `in 4 min`, `in 1 h 5 min`, `now`. */
export function until(iso: string | undefined, nowMs = Date.now()): string {
  if (!iso) return '—';
  const ms = Date.parse(iso) - nowMs;
  if (!Number.isFinite(ms)) return '—';
  if (ms <= 0) return 'now';
  const s = Math.round(ms / 1000);
  if (s < 60) return `in ${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `in ${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `in ${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
  return `in ${Math.floor(h / 24)} d ${h % 24} h`;
}
