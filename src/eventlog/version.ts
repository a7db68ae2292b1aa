// The event log's version and default bound as plain numbers: the writer imports these without
// loading TypeBox, which only the reader (the diagram tool) needs for format.ts's schemas.

/** Version of this format, in every header line; the merger refuses other versions. */
export const LOG_VERSION = 1;

/** Default bound on a log file (`--log-max-mb`). */
export const DEFAULT_LOG_MAX_MB = 64;
