/** For the default branch of an exhaustive switch: compiles only when every case is handled. */
export function unreachable(x: never, what: string): never {
  throw new Error(`unhandled ${what}: ${String(x)}`);
}
