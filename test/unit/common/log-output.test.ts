import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeLine } from '../../../src/common/log/output.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tq-log-output-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A FIFO with a reader that never reads, and its write end, non-blocking like a journal socket. */
function stalledPipe() {
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  return { fifo, reader, writer };
}

describe('writeLine', () => {
  it('writes the whole line before it returns', () => {
    const file = join(dir, 'out');
    const fd = openSync(file, 'w');
    const line = `${'x'.repeat(200_000)}é\n`;
    writeLine(fd, line);
    closeSync(fd);
    expect(readFileSync(file, 'utf8')).toBe(line);
  });

  it('waits for a full non-blocking pipe to drain, then writes the rest of the line', async () => {
    const { fifo, reader, writer } = stalledPipe();
    const copy = join(dir, 'copy');
    const cat = spawn('sh', ['-c', `sleep 0.1; cat "${fifo}" > "${copy}"`]);
    const line = `${'y'.repeat(300_000)}\n`;
    writeLine(writer, line); // more than a pipe holds: EAGAIN until cat reads
    closeSync(writer);
    closeSync(reader);
    await new Promise((resolve) => cat.on('exit', resolve));
    expect(readFileSync(copy, 'utf8')).toBe(line);
  });

  it('drops the line, without throwing, when the pipe stays full or its reader is gone', () => {
    const { reader, writer } = stalledPipe();
    writeLine(writer, `${'z'.repeat(300_000)}\n`); // never drained: gives up after a second
    closeSync(reader);
    expect(() => writeLine(writer, 'after the reader closed\n')).not.toThrow(); // EPIPE
    closeSync(writer);
  });
});
