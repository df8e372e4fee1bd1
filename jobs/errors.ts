/** A job refused its input (a missing folder, a range with no data): the person can fix it; the CLI exits 2, as for a bad flag. */
export class InputError extends Error {}
