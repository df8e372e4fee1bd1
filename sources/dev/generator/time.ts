/** Units of the simulated clock, which counts milliseconds since the epoch (fractions included). */
export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
