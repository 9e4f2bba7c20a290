/**
 * Clients of `taskqueue-api` for the chaos suite: numbered submits over HTTP, several at once,
 * each with the idempotency key `chaos-api-<n>`. A submit that fails because the API is down
 * (connection refused or reset), or is answered 5xx (the broker away: TQ_ERR_API_PUBLISH), is
 * sent again with the same key until the API takes it: that is what the key is for. Every id
 * an answer carries is kept per key, so two ids for one key are seen.
 */
import { setMaxListeners } from 'node:events';
import { errorText, sleep } from './util.js';

export interface ApiClientsOptions {
  /** The API's base URL now (it changes when the API is started again on another port). */
  base: () => string;
  token: string;
  type: string;
  count: number;
  /** Submits in flight at once. */
  concurrency: number;
  signal: AbortSignal;
  say: (line: string) => void;
}

/** What the API answers to a submit (docs/api.md). */
interface SubmitAnswer {
  task?: { id?: string; state?: string };
  created?: boolean;
  error?: { code?: string; message?: string };
}

export const idempotencyKey = (n: number): string => `chaos-api-${n}`;

export class ApiClients {
  readonly #options: ApiClientsOptions;
  /** The id the API gave each task number (its key). */
  readonly ids = new Map<number, string>();
  /** Keys answered with another id than before: "recorded twice". */
  readonly conflicts: string[] = [];
  /** Submits refused for good (a 4xx): a bug in the API or in this test. */
  readonly refused = new Map<number, string>();
  /** Submits sent again after a failure, and why they failed (code or error text), counted. */
  retries = 0;
  readonly failures = new Map<string, number>();
  /** Answers with `created: false`: the key was known (a retry whose first try was stored). */
  repeats = 0;
  lastProgressAt = Date.now();
  #next = 0;
  #done: Promise<void> | undefined;

  constructor(options: ApiClientsOptions) {
    this.#options = options;
    // Each client listens to the scenario's signal in its fetch and in its backoff (API down: all).
    setMaxListeners(options.concurrency * 2 + 16, options.signal);
  }

  get accepted(): number {
    return this.ids.size;
  }

  /** Starts the clients; `done()` resolves when every number was taken or refused. */
  start(): void {
    const { concurrency } = this.#options;
    this.#done = Promise.all(Array.from({ length: concurrency }, () => this.#client())).then(
      () => undefined,
    );
  }

  done(): Promise<void> {
    return this.#done ?? Promise.resolve();
  }

  async #client(): Promise<void> {
    const { count, signal } = this.#options;
    while (!signal.aborted) {
      const n = this.#next++;
      if (n >= count) return;
      await this.#submitUntilTaken(n);
    }
  }

  async #submitUntilTaken(n: number): Promise<void> {
    const { signal } = this.#options;
    for (let attempt = 0; !signal.aborted; attempt++) {
      const outcome = await this.submit(n);
      if (outcome === 'taken' || outcome === 'refused') return;
      this.retries++;
      // Backoff: 100 ms doubling to 1 s; the API comes back within seconds.
      await sleep(Math.min(1000, 100 * 2 ** Math.min(attempt, 4)), signal);
    }
  }

  /**
   * One submit of task `n` (fields `{n}`, its key). `taken`: answered with an id (kept, and
   * compared with the id of an earlier answer); `retry`: the API was unreachable or answered 5xx;
   * `refused`: a 4xx.
   */
  async submit(n: number): Promise<'taken' | 'retry' | 'refused'> {
    const { base, token, type } = this.#options;
    let status: number;
    let answer: SubmitAnswer;
    try {
      const response = await fetch(`${base()}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type, fields: { n }, idempotencyKey: idempotencyKey(n) }),
        signal: AbortSignal.any([this.#options.signal, AbortSignal.timeout(30_000)]),
      });
      status = response.status;
      answer = (await response.json()) as SubmitAnswer;
    } catch (err) {
      this.#failed(causeOf(err));
      return 'retry';
    }
    if (status >= 500) {
      this.#failed(answer.error?.code ?? `HTTP ${status}`);
      return 'retry';
    }
    const id = answer.task?.id;
    if ((status !== 201 && status !== 200) || typeof id !== 'string') {
      this.refused.set(n, `HTTP ${status}: ${JSON.stringify(answer).slice(0, 300)}`);
      return 'refused';
    }
    if (answer.created === false) this.repeats++;
    const known = this.ids.get(n);
    if (known !== undefined && known !== id) {
      this.conflicts.push(`${idempotencyKey(n)}: ${known} then ${id}`);
    } else if (known === undefined) {
      this.ids.set(n, id);
      this.lastProgressAt = Date.now();
    }
    return 'taken';
  }

  #failed(why: string): void {
    this.failures.set(why, (this.failures.get(why) ?? 0) + 1);
  }

  /** The failures seen, most frequent first: `ECONNREFUSED ×120, TQ_ERR_API_PUBLISH ×3`. */
  failureSummary(): string {
    return [...this.failures]
      .sort((a, b) => b[1] - a[1])
      .map(([why, count]) => `${why} ×${count}`)
      .join(', ');
  }
}

/** The code of a fetch failure (undici wraps the socket's error in `cause`). */
function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if ((err as Error).name === 'TimeoutError') return 'timeout';
  return errorText(err).slice(0, 80);
}
