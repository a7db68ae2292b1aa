// Bounds of the protocol as plain numbers, apart from the schemas (messages.ts) that use them: a
// program imports these without loading TypeBox, which it does not need at run time (the checks
// are compiled ahead of time into checks.ts; see gen-checks.ts).

/** Longest record line (and field) accepted: the data loader refuses longer ones. */
export const MAX_LINE = 2000;

/** Largest request id: ids are per-sender counters that start at a random point. */
export const MAX_RID = 2 ** 48;

/** Most members of a ring. */
export const MAX_RING = 256;

/** Request ids one ack datagram acknowledges: `rid` and up to 64 more. */
export const MAX_ACKS_PER_DATAGRAM = 65;

/**
 * A frame of record lines (data/line.ts): CSV lines of 14 fields, each starting with its event id,
 * joined by '\n'; a line holding a line break travels as a JSON string literal. One compiled
 * expression checks the whole frame, linear in its length (no nested choice can backtrack).
 * Each line (unescaped) is at most MAX_LINE characters.
 */
const RAW_LINE = `[0-9]{1,16},[^\\n]{0,${MAX_LINE - 2}}`;
const JSON_LINE = `"[0-9]{1,16},(?:[^"\\\\\\x00-\\x1f]|\\\\(?:["\\\\/bfnrt]|u[0-9a-fA-F]{4})){0,${MAX_LINE - 2}}"`;
const FRAME_LINE = `(?:${JSON_LINE}|${RAW_LINE})`;
export const FRAME_PATTERN = `^(?:${FRAME_LINE}(?:\\n${FRAME_LINE})*)?$`;
/** Largest frame: a whole reassembled message (protocol/wire.ts), and a compressed frame once inflated (zframe.ts). */
export const MAX_FRAME = 64 * 8192;
