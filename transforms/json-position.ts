/**
 * Where a text stops being JSON: the offset of the first character a JSON
 * parser cannot accept (the text's length when it ends too early). Dead
 * letters report this position instead of a snippet of the input, which may
 * hold personal data. Only run on texts JSON.parse already refused.
 */

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;

type Expect = "value" | "key" | "colon" | "comma-or-end" | "key-or-end" | "value-or-end";

/** -1 when the text is valid JSON after all. */
export function jsonErrorOffset(text: string): number {
  const closers: number[] = []; // 0x7d '}' or 0x5d ']' of the open containers
  let expect = "value" as Expect;
  let i = 0;
  const skip = (): void => {
    while (i < text.length && WS.has(text.charCodeAt(i))) i++;
  };
  for (;;) {
    skip();
    if (i >= text.length) return closers.length === 0 && expect === "comma-or-end" ? -1 : text.length;
    const c = text.charCodeAt(i);
    if (closers.length === 0 && expect === "comma-or-end") return i; // trailing characters after the value
    switch (expect) {
      case "colon":
        if (c !== 0x3a) return i;
        i++;
        expect = "value";
        continue;
      case "comma-or-end":
        if (c === 0x2c) {
          i++;
          expect = closers[closers.length - 1] === 0x7d ? "key" : "value";
          continue;
        }
        if (c !== closers[closers.length - 1]) return i;
        closers.pop();
        i++;
        expect = "comma-or-end";
        continue;
      case "key":
      case "key-or-end":
        if (expect === "key-or-end" && c === 0x7d) {
          closers.pop();
          i++;
          expect = "comma-or-end";
          continue;
        }
        if (c !== 0x22) return i;
        {
          const end = stringEnd(text, i);
          if (end < 0) return -end - 1;
          i = end;
        }
        expect = "colon";
        continue;
      case "value":
      case "value-or-end":
        if (expect === "value-or-end" && c === 0x5d) {
          closers.pop();
          i++;
          expect = "comma-or-end";
          continue;
        }
        if (c === 0x7b || c === 0x5b) {
          closers.push(c === 0x7b ? 0x7d : 0x5d);
          i++;
          expect = c === 0x7b ? "key-or-end" : "value-or-end";
          continue;
        }
        if (c === 0x22) {
          const end = stringEnd(text, i);
          if (end < 0) return -end - 1;
          i = end;
          expect = "comma-or-end";
          continue;
        }
        {
          const end = literalEnd(text, i);
          if (end < 0) return i;
          i = end;
        }
        expect = "comma-or-end";
        continue;
    }
  }
}

/** The offset after a number or literal starting at `from`, or -1. */
function literalEnd(text: string, from: number): number {
  for (const re of [NUMBER, LITERAL]) {
    re.lastIndex = from;
    if (re.test(text)) return re.lastIndex;
  }
  return -1;
}

/** The offset after the closing quote of the string starting at `from`, or -(offset of the fault) - 1. */
function stringEnd(text: string, from: number): number {
  for (let i = from + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) return -i - 1;
    if (c === 0x5c) {
      const e = text[i + 1];
      if (e === "u") {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return -(i + 1) - 1;
        i += 5;
      } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
      else return -(i + 1) - 1;
    }
  }
  return -text.length - 1;
}
