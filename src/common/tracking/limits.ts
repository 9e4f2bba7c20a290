/**
 * How large the parts of an event may be. Events come from children that run plugin code: the
 * tracker refuses anything larger (parse.ts), and the publishers cut their copies to fit, so that
 * a well-behaved publisher never makes an event the tracker refuses.
 */

/** The copy of a workitem (`received`) or a result (finals), in bytes of its JSON. */
export const COPY_CAP_BYTES = 64 * 1024;
/** Error texts (an error's message, a parked reason). */
export const ERROR_CAP_CHARS = 4 * 1024;
/** Crash log lines, and the length of each. */
export const CRASH_LOG_MAX_LINES = 100;
export const CRASH_LOG_LINE_CHARS = 1024;
/** Ids, types, hosts, users, codes, times. */
export const NAME_CAP_CHARS = 255;
/**
 * A whole event: the copy (a cut copy is a string, whose JSON escaping may take up to 6 bytes a
 * byte), the error, the crash log and the rest.
 */
export const EVENT_MAX_BYTES =
  COPY_CAP_BYTES * 6 +
  ERROR_CAP_CHARS * 6 +
  CRASH_LOG_MAX_LINES * CRASH_LOG_LINE_CHARS * 6 +
  16 * 1024;
