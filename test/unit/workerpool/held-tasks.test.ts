import { ftruncateSync, writeSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  closeHeldTasksFile,
  HeldTasksWriter,
  heldTasksOversized,
  heldTasksSlots,
  openHeldTasksFile,
  readHeldTasks,
  SETTLE_DELAY_MS,
  SLOT_BYTES,
} from '../../../src/workerpool/held-tasks.js';

/** The slots a child of prefetch 4 may use: as the pool reads them. */
const SLOTS = heldTasksSlots(4);

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
    const { held, settled } = readHeldTasks(fd, SLOTS);
    expect([...held.keys()].sort()).toEqual(['echo\0b', 'echo\0ç-😀']);
    expect(held.get('echo\0b')).toBeGreaterThanOrEqual(before);
    expect(settled).toBe(1);
    writer.settled(b);
    writer.settled(c);
    writer.flush();
    expect(readHeldTasks(fd, SLOTS)).toEqual({ held: new Map(), waiting: new Map(), settled: 3 });
  });

  it('shows a task waiting for its turn apart from those held, in the slot it then takes', () => {
    const fd = file();
    const writer = new HeldTasksWriter(fd, (err) => {
      throw err;
    });
    const running = writer.took('echo\0a');
    const waiting = writer.waiting('echo\0b');
    let read = readHeldTasks(fd, SLOTS);
    expect([...read.held.keys()]).toEqual(['echo\0a']);
    expect([...read.waiting.keys()]).toEqual(['echo\0b']);
    writer.settled(running);
    expect(writer.took('echo\0b', waiting)).toBe(waiting);
    read = readHeldTasks(fd, SLOTS);
    expect([...read.held.keys()]).toEqual(['echo\0b']);
    expect(read.waiting.size).toBe(0);
    expect(read.settled).toBe(1);
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
      expect(readHeldTasks(fd, SLOTS)).toEqual({ held: new Map(), waiting: new Map(), settled: 1 });
      const b = writer.took('echo\0b');
      const c = writer.took('echo\0c');
      writer.settled(b);
      writer.settled(c);
      // Not written yet: the file still shows both held.
      expect([...readHeldTasks(fd, SLOTS).held.keys()].sort()).toEqual(['echo\0b', 'echo\0c']);
      const d = writer.took('echo\0d'); // c's slot, last freed: c's settlement rides on it
      expect(d).toBe(c);
      expect([...readHeldTasks(fd, SLOTS).held.keys()].sort()).toEqual(['echo\0b', 'echo\0d']);
      expect(readHeldTasks(fd, SLOTS).settled).toBe(2);
      vi.advanceTimersByTime(SETTLE_DELAY_MS); // b's slot was not taken again
      expect([...readHeldTasks(fd, SLOTS).held.keys()]).toEqual(['echo\0d']);
      expect(readHeldTasks(fd, SLOTS).settled).toBe(3);
      writer.settled(d);
      writer.flush(); // as on exit
      expect(readHeldTasks(fd, SLOTS)).toEqual({ held: new Map(), waiting: new Map(), settled: 4 });
    } finally {
      vi.useRealTimers();
    }
  });

  it('skips a slot caught half-written (held, but no time yet) instead of calling it overdue', () => {
    const fd = file();
    const torn = Buffer.alloc(5);
    torn.writeUInt8(1, 4); // state "held", the rest of the record not there yet
    writeSync(fd, torn, 0, torn.length, 0);
    expect(readHeldTasks(fd, SLOTS).held.size).toBe(0);
    writeSync(fd, Buffer.alloc(SLOT_BYTES), 0, SLOT_BYTES, 0);
    expect(readHeldTasks(fd, SLOTS)).toEqual({ held: new Map(), waiting: new Map(), settled: 0 });
  });

  it('reports a failed write once and goes on', () => {
    const errors: Error[] = [];
    const writer = new HeldTasksWriter(987_654, (err) => errors.push(err));
    writer.settled(writer.took('x'));
    writer.took('y');
    expect(errors).toHaveLength(1);
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('EBADF');
  });

  it('reads only the slots a child may have, whatever size the child gave the file', () => {
    const fd = file();
    const writer = new HeldTasksWriter(fd, (err) => {
      throw err;
    });
    for (let n = 0; n < SLOTS; n++) writer.took(`echo\0${n}`);
    expect(readHeldTasks(fd, SLOTS).held.size).toBe(SLOTS);
    expect(heldTasksOversized(fd, SLOTS)).toBeUndefined();
    writer.took('echo\0one-too-many');
    const tasks = readHeldTasks(fd, SLOTS);
    expect(tasks.held.size).toBe(SLOTS);
    expect(tasks.held.has('echo\0one-too-many')).toBe(false);
    expect(tasks.oversized?.slots).toBe(SLOTS);
    // Past what a Buffer can hold, and far past what the pool may allocate: one fstat says so.
    ftruncateSync(fd, 5e9);
    expect(heldTasksOversized(fd, SLOTS)).toBe(5e9);
    const before = process.memoryUsage().arrayBuffers;
    expect(readHeldTasks(fd, SLOTS).oversized).toEqual({ bytes: 5e9, slots: SLOTS });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(SLOTS * SLOT_BYTES);
  });

  it('takes no harm from what a child writes into a slot: state, time, key length', () => {
    const fd = file();
    const slot = (n: number, state: number, since: number, keyLength: number, key = '') => {
      const record = Buffer.alloc(SLOT_BYTES);
      record.writeUInt32LE(0xffffffff, 0);
      record.writeUInt8(state, 4);
      record.writeDoubleLE(since, 5);
      record.writeUInt16LE(keyLength, 13);
      record.write(key, 15);
      writeSync(fd, record, 0, SLOT_BYTES, n * SLOT_BYTES);
    };
    slot(0, 7, 1000, 1, 'a'); // not "held"
    slot(1, 1, Number.NaN, 1, 'b');
    slot(2, 1, Number.POSITIVE_INFINITY, 1, 'c');
    slot(3, 1, -5, 1, 'd');
    slot(4, 1, 1000, 0xffff, 'e'); // a key longer than the slot: cut at the slot's end
    slot(5, 1, 2000, 1, 'f');
    const { held, settled } = readHeldTasks(fd, SLOTS);
    expect([...held.keys()].map((k) => k[0])).toEqual(['e', 'f']);
    expect(held.get('f')).toBe(2000);
    expect([...held.keys()][0]!.length).toBeLessThanOrEqual(SLOT_BYTES);
    expect(settled).toBe(6 * 0xffffffff);
  });
});
