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
