/**
 * A load-time check for the reference lists whose strings the writer splices
 * into hand-built JSON (the envelope, page_view, search, add_to_cart): none
 * may need escaping, else the hand-built JSON would differ from
 * JSON.stringify or be invalid. Throws at import, so a bad entry cannot ship.
 */
export function assertJsonSafe(...lists: readonly (readonly string[])[]): void {
  for (const list of lists) {
    for (const v of list) if (/["\\\u0000-\u001f\u007f-\uffff]/.test(v)) throw new Error(`not JSON-safe: ${v}`);
  }
}
