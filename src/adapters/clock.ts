// The clock of a release: release IDs, journal and lock times. Workflows take it as a port (Ports.clock).

/** What tells the time; a test may pass a fixed one. */
export type Clock = () => Date;

/** The machine's clock. */
export const systemClock: Clock = () => new Date();
