import { writeSync } from 'node:fs';

/** How long a line may wait for a full pipe (the journal, a pager) that takes none of it. */
const FULL_PIPE_WAIT_MS = 1000;
const SLEEP = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes a line to a file descriptor before returning, as pino's `sync: true` destination does,
 * so that a line logged just before an exit is not lost. A non-blocking descriptor that is full
 * (EAGAIN) is waited for as long as it takes some of the line every second; after a second
 * without progress, or on any other error (stdout closed), the rest of the line is dropped: a
 * daemon must not stop because its log cannot be written.
 */
export function writeLine(fd: number, line: string): void {
  let bytes = Buffer.from(line);
  let waited = 0;
  while (bytes.length > 0) {
    try {
      bytes = bytes.subarray(writeSync(fd, bytes));
      waited = 0;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || waited >= FULL_PIPE_WAIT_MS) return;
      Atomics.wait(SLEEP, 0, 0, 1);
      waited += 1;
    }
  }
}

/**
 * The terminal's format, by pino-pretty's formatter: loaded only when stdout is a terminal (or
 * `TASKQUEUE_LOG_PRETTY=1`), so that daemons do not carry it.
 */
export function prettyFormatter(): (line: string) => string {
  // node:module on demand: a daemon's logger does not load it (nor the source-map code it brings).
  const { createRequire } = process.getBuiltinModule('node:module');
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as {
    prettyFactory: (options: object) => (line: string) => string;
  };
  return prettyFactory({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'hostname' });
}
