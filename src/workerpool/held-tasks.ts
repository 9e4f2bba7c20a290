import { closeSync, fstatSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  HEADER_BYTES,
  KEY_LENGTH_OFFSET,
  KEY_OFFSET,
  MAX_KEY_BYTES,
  SETTLE_BYTES,
  SETTLED_OFFSET,
  SINCE_OFFSET,
  SLOT_BYTES,
  SLOT_FREE,
  SLOT_HELD,
  SLOT_WAITING,
  STATE_OFFSET,
} from './held-tasks-layout.js';

export { HELD_TASKS_FD, SLOT_BYTES } from './held-tasks-layout.js';

/**
 * Which tasks a child holds, in a small file the pool and the child share: the child writes a
 * slot when it takes a task and when it settles it; the pool reads the file only when it needs
 * to know (the child died, the timeout watchdog's round, a redelivered task's question).
 *
 * It replaces one message to the pool per task: a pipe message wakes the pool and costs a JSON
 * round trip on both sides, which at full speed cost more than the task itself (the figures:
 * bench/FINDINGS.md, "Figures moved out of comments"). A write to this file is one syscall into
 * the page cache, and it is there for the pool even if the child is SIGKILLed right after:
 * the take is written before the plugin runs, so a crash is attributed to its task, and the
 * watchdog sees a task whose plugin blocks the event loop for good.
 *
 * The file is unlinked as soon as it is opened (nothing to clean up, nothing another process
 * could open) and reaches the child as an inherited descriptor, so a child that runs as another
 * user can write it.
 *
 * The slot layout, for writer and reader alike, is named in held-tasks-layout.ts.
 */
/**
 * How long a settlement may wait to be written with the next take of its slot. A freed slot is
 * the next one taken (last in, first out), so under load nearly every settlement rides on a take
 * and a task costs one write instead of two (a syscall costs more when the machine is busy;
 * figures in bench/FINDINGS.md). Meanwhile the pool sees the task held a little longer: nothing
 * it acts on is that quick (timeouts are in seconds), and a clean exit, an uncaught exception included, writes it first.
 */
export const SETTLE_DELAY_MS = 50;

/** The child's side: one slot per task in hand, reused once settled. */
export class HeldTasksWriter {
  #fd: number;
  #free: number[] = [];
  #slots = 0;
  #settled: number[] = [];
  #record = Buffer.alloc(SLOT_BYTES);
  #onError: (err: Error) => void;
  #broken = false;
  /** Slots settled and free whose settlement is not written yet. */
  #unwritten = new Set<number>();
  #timer: NodeJS.Timeout | undefined;

  /** `onError` hears once of a failed write; the child goes on without telling the pool. */
  constructor(fd: number, onError: (err: Error) => void) {
    this.#fd = fd;
    this.#onError = onError;
  }

  /**
   * Writes that the child took `key`, in `slot` when it waited there (`waiting`); returns the
   * slot to pass to `settled`.
   */
  took(key: string, slot?: number): number {
    return this.#hold(key, SLOT_HELD, slot);
  }

  /** Writes that the child holds `key` but has not started it; returns its slot. */
  waiting(key: string): number {
    return this.#hold(key, SLOT_WAITING);
  }

  #hold(key: string, state: number, taken?: number): number {
    const slot = taken ?? this.#free.pop() ?? this.#slots++;
    this.#unwritten.delete(slot); // this record carries its settled count
    const record = this.#record;
    record.writeUInt32LE((this.#settled[slot] ?? 0) >>> 0, SETTLED_OFFSET);
    record.writeUInt8(state, STATE_OFFSET);
    record.writeDoubleLE(Date.now(), SINCE_OFFSET);
    const length = record.write(key, KEY_OFFSET, MAX_KEY_BYTES, 'utf8');
    record.writeUInt16LE(length, KEY_LENGTH_OFFSET);
    this.#write(HEADER_BYTES + length, slot);
    return slot;
  }

  /**
   * The task in `slot` is settled (acked, or left to the broker, `lost` said first): written with
   * the slot's next take or within SETTLE_DELAY_MS. The first one is written at once: the pool
   * tells a child that crashed after doing some work from one that never worked.
   */
  settled(slot: number): void {
    const first = this.#settled.length === 0;
    this.#settled[slot] = (this.#settled[slot] ?? 0) + 1;
    this.#free.push(slot);
    if (first) {
      this.#writeSettled(slot);
      return;
    }
    this.#unwritten.add(slot);
    this.#timer ??= setTimeout(() => this.flush(), SETTLE_DELAY_MS).unref();
  }

  /** Writes the settlements still waiting for a take; call before the process exits. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const slot of this.#unwritten) this.#writeSettled(slot);
    this.#unwritten.clear();
  }

  #writeSettled(slot: number): void {
    const record = this.#record;
    record.writeUInt32LE((this.#settled[slot] ?? 0) >>> 0, SETTLED_OFFSET);
    record.writeUInt8(SLOT_FREE, STATE_OFFSET);
    record.writeDoubleLE(0, SINCE_OFFSET);
    this.#write(SETTLE_BYTES, slot);
  }

  #write(length: number, slot: number): void {
    if (this.#broken) return;
    try {
      writeSync(this.#fd, this.#record, 0, length, slot * SLOT_BYTES);
    } catch (err) {
      this.#broken = true;
      this.#onError(err as Error);
    }
  }
}

/** What a child's file says: the tasks it holds (key → since, ms) and how many it settled. */
export interface HeldTasks {
  held: Map<string, number>;
  /**
   * Tasks held but not started (SLOT_WAITING), key → since they came: not counted by the
   * watchdog, nor as crashed.
   */
  waiting: Map<string, number>;
  settled: number;
  /** The file is larger than the slots read: the child wrote where no task of its can be. */
  oversized?: { bytes: number; slots: number };
}

/**
 * How many slots a child whose channel has `prefetch` may use: `prefetch` tasks in hand, and
 * again as many per broker connection lost while its tasks ran on (the broker delivers anew
 * while the plugin still has the old ones), a few times over. More is not a child of ours.
 */
export function heldTasksSlots(prefetch: number): number {
  return 4 * prefetch;
}

/** The pool reads every file through this one buffer, a few slots at a time. */
const READ_SLOTS = 64;
const readBuffer = Buffer.alloc(READ_SLOTS * SLOT_BYTES);

/**
 * Reads a child's file, at most `maxSlots` slots of it (heldTasksSlots), whatever size the
 * child gave the file: what is beyond is not read, and is reported as `oversized`. Nothing a
 * child writes in a slot makes this throw or allocate more than its key (≤ MAX_KEY_BYTES).
 *
 * Safe while the child writes: a slot caught half-written shows either its old state or `since`
 * 0, and a held slot without a time is skipped, so the watchdog never takes a task for overdue
 * on a torn read. After the child's exit the file is complete.
 */
export function readHeldTasks(fd: number, maxSlots: number): HeldTasks {
  const size = fstatSync(fd).size;
  const end = Math.min(size, maxSlots * SLOT_BYTES);
  const held = new Map<string, number>();
  const waiting = new Map<string, number>();
  let settled = 0;
  for (let start = 0; start < end; start += readBuffer.length) {
    const want = Math.min(readBuffer.length, end - start);
    let read = 0;
    while (read < want) {
      const n = readSync(fd, readBuffer, read, want - read, start + read);
      if (n === 0) break;
      read += n;
    }
    for (let at = 0; at + SETTLE_BYTES <= read; at += SLOT_BYTES) {
      settled += readBuffer.readUInt32LE(at + SETTLED_OFFSET);
      const state = readBuffer.readUInt8(at + STATE_OFFSET);
      if ((state !== SLOT_HELD && state !== SLOT_WAITING) || at + HEADER_BYTES > read) continue;
      const since = readBuffer.readDoubleLE(at + SINCE_OFFSET);
      const length = Math.min(readBuffer.readUInt16LE(at + KEY_LENGTH_OFFSET), MAX_KEY_BYTES);
      // NaN, ±Infinity and times before the epoch are no time: skipped like a torn slot.
      if (!(since > 0 && since < Number.MAX_SAFE_INTEGER)) continue;
      if (at + KEY_OFFSET + length > read) continue;
      const key = readBuffer.toString('utf8', at + KEY_OFFSET, at + KEY_OFFSET + length);
      if (state === SLOT_HELD) held.set(key, since);
      else waiting.set(key, since);
    }
    if (read < want) break; // shrunk while read
  }
  if (size > end) return { held, waiting, settled, oversized: { bytes: size, slots: maxSlots } };
  return { held, waiting, settled };
}

/** The size of a child's file, beyond `maxSlots` slots, or undefined: one fstat, no read. */
export function heldTasksOversized(fd: number, maxSlots: number): number | undefined {
  const size = fstatSync(fd).size;
  return size > maxSlots * SLOT_BYTES ? size : undefined;
}

/**
 * Opens a new, already unlinked file for one child: in /dev/shm (memory) when it can, else in
 * the temporary directory (a systemd unit's PrivateTmp will do).
 */
export function openHeldTasksFile(): number {
  const name = `taskqueue-held-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  for (const dir of ['/dev/shm', tmpdir()]) {
    const path = join(dir, name);
    let fd: number;
    try {
      fd = openSync(path, 'wx+', 0o600);
    } catch {
      continue;
    }
    unlinkSync(path);
    return fd;
  }
  throw new Error(`cannot create a file in /dev/shm or ${tmpdir()}`);
}

export function closeHeldTasksFile(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Closed already.
  }
}
