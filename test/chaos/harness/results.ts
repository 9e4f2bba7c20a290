/**
 * Reading what arrived, for the scenarios' own checks: a result's workitem and headers, the
 * steady rate of a run of arrivals. Nothing here throws on a malformed message: a check that
 * cannot read a result reports it as a failure instead.
 */
import type { ConsumeMessage } from 'amqplib';

/** A result's workitem as the pool publishes it (SPEC §1 Result / Failure). */
export interface ResultBody {
  fields: Record<string, unknown>;
  error?: string;
  trace?: string;
}

/** The result's workitem, or undefined when it is not a JSON object with `fields`. */
export function resultBody(message: ConsumeMessage): ResultBody | undefined {
  try {
    const body = JSON.parse(message.content.toString('utf8')) as unknown;
    if (typeof body !== 'object' || body === null) return undefined;
    const fields = (body as { fields?: unknown }).fields;
    if (typeof fields !== 'object' || fields === null) return undefined;
    return body as ResultBody;
  } catch {
    return undefined;
  }
}

export function header(message: ConsumeMessage, name: string): unknown {
  return message.properties.headers?.[name];
}

/**
 * Arrivals per second in the middle 80 % of `times` (ms timestamps): the first and last tenth
 * are left out, so that start-up (programs warming up, the first publishes) and the tail (the
 * last stragglers) do not dilute a short phase's figure.
 */
export function steadyRate(times: number[]): number {
  if (times.length < 10) return Number.NaN;
  const sorted = [...times].sort((a, b) => a - b);
  const first = Math.floor(sorted.length * 0.1);
  const last = Math.ceil(sorted.length * 0.9) - 1;
  const seconds = (sorted[last]! - sorted[first]!) / 1000;
  return seconds > 0 ? (last - first) / seconds : Number.POSITIVE_INFINITY;
}

/** A few items of a list, for failure messages. */
export function some(items: Array<number | string>, max = 8): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} … (${items.length} in all)` : shown;
}
