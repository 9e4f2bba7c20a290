export { type Copy, copyOfJson, copyOfText, cutUtf8, RawJson } from './copy.js';
export { encodeEvent } from './encode.js';
export { EVENT_NAMES, type EventName, FINAL_EVENTS, type WireEvent } from './event.js';
export * from './limits.js';
export { parseEvent } from './parse.js';
