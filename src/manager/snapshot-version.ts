/** Version of the manager's saved state (snapshot.ts), in every snapshot and change. */
export const SNAPSHOT_VERSION = 1;
