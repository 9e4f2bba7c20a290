import { authHeaders } from '../api/client';
import type { StateEvent } from '../api/types';
import { sseParser } from './sse-parser';

export type StreamStatus = 'live' | 'reconnecting';

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30_000;

/**
 * GET /v1/events read with fetch and a streaming body, so that it carries the Authorization
 * header (EventSource cannot). When it ends or fails it reconnects with a growing delay, and
 * after a reconnect tells its listeners to read again what they show: the API does not replay
 * what was missed (docs/api.md, no Last-Event-ID yet).
 */
export class EventStream {
  private readonly events = new Set<(event: StateEvent) => void>();
  private readonly resyncs = new Set<() => void>();
  private readonly statuses = new Set<(status: StreamStatus) => void>();
  private abort: AbortController | undefined;
  status: StreamStatus = 'reconnecting';

  constructor(private readonly token: string | undefined) {}

  onEvent(listener: (event: StateEvent) => void): () => void {
    this.events.add(listener);
    return () => this.events.delete(listener);
  }

  /** Called after the stream came back: changes in between were missed. */
  onResync(listener: () => void): () => void {
    this.resyncs.add(listener);
    return () => this.resyncs.delete(listener);
  }

  onStatus(listener: (status: StreamStatus) => void): () => void {
    this.statuses.add(listener);
    return () => this.statuses.delete(listener);
  }

  start(): void {
    if (this.abort) return;
    const abort = new AbortController();
    this.abort = abort;
    void this.run(abort.signal);
  }

  stop(): void {
    this.abort?.abort();
    this.abort = undefined;
  }

  private setStatus(status: StreamStatus): void {
    if (status === this.status) return;
    this.status = status;
    for (const listener of this.statuses) listener(status);
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    let connectedBefore = false;
    while (!signal.aborted) {
      try {
        const response = await fetch('/v1/events', {
          headers: { accept: 'text/event-stream', ...authHeaders(this.token) },
          cache: 'no-store',
          signal,
        });
        if (!response.ok || !response.body) throw new Error(`status ${response.status}`);
        this.setStatus('live');
        failures = 0;
        if (connectedBefore) for (const listener of this.resyncs) listener();
        connectedBefore = true;
        await this.read(response.body, signal);
      } catch {
        // refused, cut or aborted: the loop decides
      }
      if (signal.aborted) return;
      this.setStatus('reconnecting');
      const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** failures);
      failures += 1;
      // Jitter, so that many open dashboards do not all come back in the same instant.
      await sleep(delay * (0.75 + Math.random() / 2), signal);
    }
  }

  private async read(body: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const feed = sseParser(({ event, data }) => {
      if (event !== 'state') return;
      let parsed: StateEvent;
      try {
        parsed = JSON.parse(data) as StateEvent;
      } catch {
        return;
      }
      for (const listener of this.events) listener(parsed);
    });
    const cancel = () => void reader.cancel().catch(() => {});
    signal.addEventListener('abort', cancel, { once: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        feed(decoder.decode(value, { stream: true }));
      }
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
