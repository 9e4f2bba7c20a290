/**
 * The layout of a child's held-tasks file (held-tasks.ts), named once for its writer (the child,
 * HeldTasksWriter) and its reader (the pool, readHeldTasks): piscina's symbols.ts habit. The file
 * is an array of fixed-size slots, one per task a child has in hand, each little-endian:
 *
 * ```
 * offset  size  field
 *      0     4  settled    u32  tasks settled in this slot so far (the pool sums every slot)
 *      4     1  state      u8   SLOT_HELD while its plugin has the task, SLOT_WAITING while it
 *                                waits for its turn (`concurrency`), SLOT_FREE once it is settled
 *      5     8  since      f64  ms since the epoch the task was taken (or began to wait); 0 while free
 *     13     2  keyLength  u16  bytes of the key that follow
 *     15     …  key             the task's key (attempts.ts taskKey), UTF-8, ≤ MAX_KEY_BYTES
 * ```
 *
 * A settlement rewrites only the first SETTLE_BYTES (count, state, since); a take the whole
 * header and the key. Changing any of this changes what a pool reads from children of another
 * build: pool and children always come from the same install, but a reload re-reads nothing
 * else of a running child.
 */

/** Bytes of one slot; slot `n` starts at `n * SLOT_BYTES`. */
export const SLOT_BYTES = 1024;

/** The descriptor a child finds the file on (stdio index in the spawn call). */
export const HELD_TASKS_FD = 4;

/** `settled`, u32: settlements written in this slot. */
export const SETTLED_OFFSET = 0;
/** `state`, u8: SLOT_HELD, SLOT_WAITING or SLOT_FREE. */
export const STATE_OFFSET = SETTLED_OFFSET + 4;
/** `since`, f64: when the held task was taken, ms since the epoch; 0 while free. */
export const SINCE_OFFSET = STATE_OFFSET + 1;
/** `keyLength`, u16: bytes of the key. */
export const KEY_LENGTH_OFFSET = SINCE_OFFSET + 8;
/** The key's first byte; everything before it is the slot's header. */
export const KEY_OFFSET = KEY_LENGTH_OFFSET + 2;

/** Bytes a take writes before the key: the whole header. */
export const HEADER_BYTES = KEY_OFFSET;
/** Bytes a settlement writes: settled, state and since, not the key. */
export const SETTLE_BYTES = KEY_LENGTH_OFFSET;
/** The longest key a slot holds; a longer one is cut (and never matches a delivery's key). */
export const MAX_KEY_BYTES = SLOT_BYTES - HEADER_BYTES;

/** `state` of a slot whose task is in hand. */
export const SLOT_HELD = 1;
/**
 * `state` of a slot whose task the child holds but has not given its plugin yet (the group's
 * `concurrency` is below its `prefetch`): a death of the child is not that task's doing.
 */
export const SLOT_WAITING = 2;
/** `state` of a slot whose task is settled (and of a slot never written: the file is zeros). */
export const SLOT_FREE = 0;
