import { writeSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  closeHeldTasksFile,
  HeldTasksWriter,
  openHeldTasksFile,
  readHeldTasks,
  SETTLE_DELAY_MS,
  SLOT_BYTES,
} from '../../../src/workerpool/held-tasks.js';

describe('held-tasks file', () => {
  const fds: number[] = [];
  afterEach(() => {
    for (const fd of fds.splice(0)) closeHeldTasksFile(fd);
  });
  function file(): number {
    const fd = openHeldTasksFile();
    fds.push(fd);
    return fd;
  }

  it('shows the tasks taken and not settled, with their time, and counts the settled ones', () => {
    const fd = file();
    const writer = new HeldTasksWriter(fd, (err) => {
      throw err;
    });
    const before = Date.now();
    const a = writer.took('echo\0a');
    const b = writer.took('echo\0b');
    writer.settled(a);
    const c = writer.took('echo\0ç-😀'); // reuses a's slot
    expect(c).toBe(a);
    const { held, settled } = readHeldTasks(fd);
    expect([...held.keys()].sort()).toEqual(['echo\0b', 'echo\0ç-😀']);
    expect(held.get('echo\0b')).toBeGreaterThanOrEqual(before);
    expect(settled).toBe(1);
    writer.settled(b);
    writer.settled(c);
    writer.flush();
    expect(readHeldTasks(fd)).toEqual({ held: new Map(), settled: 3 });
  });

  it('writes a settlement with the next take of its slot, or after a short delay', () => {
    vi.useFakeTimers();
    try {
      const fd = file();
      const writer = new HeldTasksWriter(fd, (err) => {
        throw err;
      });
      const a = writer.took('echo\0a');
      writer.settled(a); // the first one at once
      expect(readHeldTasks(fd)).toEqual({ held: new Map(), settled: 1 });
      const b = writer.took('echo\0b');
      const c = writer.took('echo\0c');
      writer.settled(b);
      writer.settled(c);
      // Not written yet: the file still shows both held.
      expect([...readHeldTasks(fd).held.keys()].sort()).toEqual(['echo\0b', 'echo\0c']);
      const d = writer.took('echo\0d'); // c's slot, last freed: c's settlement rides on it
      expect(d).toBe(c);
      expect([...readHeldTasks(fd).held.keys()].sort()).toEqual(['echo\0b', 'echo\0d']);
      expect(readHeldTasks(fd).settled).toBe(2);
      vi.advanceTimersByTime(SETTLE_DELAY_MS); // b's slot was not taken again
      expect([...readHeldTasks(fd).held.keys()]).toEqual(['echo\0d']);
      expect(readHeldTasks(fd).settled).toBe(3);
      writer.settled(d);
      writer.flush(); // as on exit
      expect(readHeldTasks(fd)).toEqual({ held: new Map(), settled: 4 });
    } finally {
      vi.useRealTimers();
    }
  });

  it('skips a slot caught half-written (held, but no time yet) instead of calling it overdue', () => {
    const fd = file();
    const torn = Buffer.alloc(5);
    torn.writeUInt8(1, 4); // state "held", the rest of the record not there yet
    writeSync(fd, torn, 0, torn.length, 0);
    expect(readHeldTasks(fd).held.size).toBe(0);
    writeSync(fd, Buffer.alloc(SLOT_BYTES), 0, SLOT_BYTES, 0);
    expect(readHeldTasks(fd)).toEqual({ held: new Map(), settled: 0 });
  });

  it('reports a failed write once and goes on', () => {
    const errors: Error[] = [];
    const writer = new HeldTasksWriter(987_654, (err) => errors.push(err));
    writer.settled(writer.took('x'));
    writer.took('y');
    expect(errors).toHaveLength(1);
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('EBADF');
  });
});
