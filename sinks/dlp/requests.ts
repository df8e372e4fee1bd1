/**
 * How a batch of texts becomes Cloud DLP `inspectContent` requests. Pure.
 *
 * A request carries a table of one column, one row per text: DLP inspects
 * every cell and says which row each finding is in, so a whole batch costs
 * one call. DLP limits a request to 0.5 MB and a table to 50 000 values
 * (cells); a batch beyond either is cut into the fewest requests that fit,
 * in order (filling each request before opening the next is the fewest for
 * a batch cut into runs). Sizes are computed from the protobuf encoding,
 * not guessed from the text length.
 *
 * A text too long for a request of its own is cut into pieces that fit,
 * each overlapping the next by PIECE_OVERLAP characters, so a value cut by
 * one boundary stands whole in the other piece; the same split serves when
 * DLP truncates a request's findings (`splitRequest`).
 */

export interface DlpLimits {
  /** Bytes of one encoded request. */
  maxRequestBytes: number;
  /** Values (cells) of one table. */
  maxCells: number;
}

/** DLP's content limits (0.5 MB per request, 50 000 table values), with the request kept under 500 000 bytes either way 0.5 MB is read. */
export const DLP_LIMITS: DlpLimits = { maxRequestBytes: 500_000, maxCells: 50_000 };

/** UTF-16 units two neighbouring pieces of one text share: longer than any value DLP finds. */
export const PIECE_OVERLAP = 1_000;

/**
 * The parts of a request around its rows, encoded: everything but the
 * content item (parent, inspect config), and the table's header. What the
 * rows add is then exact (`requestBytes`).
 */
export interface RequestFraming {
  outerBytes: number;
  headerBytes: number;
}

/** One cell of a request: a text, or a piece of a long one. */
export interface Piece {
  /** Index of the distinct text it comes from. */
  text: number;
  /** Where the piece starts in that text (UTF-16 units). */
  offset: number;
  value: string;
  /** Encoded size of its table row. */
  rowBytes: number;
}

export interface PlannedRequest {
  pieces: Piece[];
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len++;
  }
  return len;
}

/** A length-delimited protobuf field of `n` bytes: tag, length, body. */
function field(n: number): number {
  return 1 + varintLength(n) + n;
}

/** Encoded bytes of a table row holding one string value of `utf8Bytes` bytes (Table.rows -> Row.values -> Value.string_value). */
export function rowBytes(utf8Bytes: number): number {
  return field(field(field(utf8Bytes)));
}

/** Encoded bytes of a request whose rows take `rowsBytes` (InspectContentRequest.item -> ContentItem.table). */
export function requestBytes(framing: RequestFraming, rowsBytes: number): number {
  return framing.outerBytes + field(field(framing.headerBytes + rowsBytes));
}

/** The most a single row may take and still fit a request of its own. */
export function rowBudget(limits: DlpLimits, framing: RequestFraming): number {
  let budget = limits.maxRequestBytes - requestBytes(framing, 0);
  while (budget > 0 && requestBytes(framing, budget) > limits.maxRequestBytes) budget--;
  return budget;
}

/** The cells for `texts`: one per text, more for a text whose row would not fit the budget. */
export function piecesOf(texts: readonly string[], budget: number, overlap = PIECE_OVERLAP): Piece[] {
  const pieces: Piece[] = [];
  texts.forEach((value, text) => {
    const bytes = Buffer.byteLength(value, "utf8");
    if (rowBytes(bytes) <= budget) pieces.push({ text, offset: 0, value, rowBytes: rowBytes(bytes) });
    else pieces.push(...cut({ text, offset: 0, value, rowBytes: rowBytes(bytes) }, budget, overlap));
  });
  return pieces;
}

/** A long piece cut into pieces whose rows fit `budget`, each overlapping the next by `overlap` units. */
function cut(piece: Piece, budget: number, overlap: number): Piece[] {
  // A row's prefixes take at most 12 bytes below 2 MB.
  const maxBytes = budget - 12;
  if (maxBytes < 4 * overlap) throw new Error(`DLP request budget of ${budget} bytes is too small to cut a long text into pieces overlapping by ${overlap}`);
  const out: Piece[] = [];
  const s = piece.value;
  let from = 0;
  for (;;) {
    let to = from;
    let bytes = 0;
    while (to < s.length) {
      const c = s.charCodeAt(to);
      const next = s.charCodeAt(to + 1);
      const units = c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
      const w = c < 0x80 ? 1 : c < 0x800 ? 2 : units === 2 ? 4 : 3;
      if (bytes + w > maxBytes) break;
      bytes += w;
      to += units;
    }
    out.push(slice(piece, from, to));
    if (to >= s.length) return out;
    from = alignStart(s, to - overlap);
  }
}

function slice(piece: Piece, from: number, to: number): Piece {
  const value = piece.value.slice(from, to);
  return { text: piece.text, offset: piece.offset + from, value, rowBytes: rowBytes(Buffer.byteLength(value, "utf8")) };
}

/** Moves a cut back off the second half of a surrogate pair. */
function alignStart(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return i > 0 && c >= 0xdc00 && c <= 0xdfff ? i - 1 : i;
}

/** Pieces in order, into the fewest requests within the limits. */
export function packRequests(pieces: readonly Piece[], limits: DlpLimits, framing: RequestFraming): PlannedRequest[] {
  const out: PlannedRequest[] = [];
  let current: Piece[] = [];
  let bytes = 0;
  for (const p of pieces) {
    if (requestBytes(framing, p.rowBytes) > limits.maxRequestBytes)
      throw new Error(`a DLP table row of ${p.rowBytes} bytes does not fit a request of ${limits.maxRequestBytes} bytes`);
    if (current.length > 0 && (requestBytes(framing, bytes + p.rowBytes) > limits.maxRequestBytes || current.length >= limits.maxCells)) {
      out.push({ pieces: current });
      current = [];
      bytes = 0;
    }
    current.push(p);
    bytes += p.rowBytes;
  }
  if (current.length > 0) out.push({ pieces: current });
  return out;
}

/**
 * A request whose findings DLP truncated, as two smaller ones: its rows in
 * two halves, or a single row cut in two overlapping pieces. Undefined when
 * a row is too short to cut (then no smaller request can hold its findings).
 */
export function splitRequest(request: PlannedRequest, overlap = PIECE_OVERLAP): [PlannedRequest, PlannedRequest] | undefined {
  const { pieces } = request;
  if (pieces.length > 1) {
    const mid = Math.ceil(pieces.length / 2);
    return [{ pieces: pieces.slice(0, mid) }, { pieces: pieces.slice(mid) }];
  }
  const piece = pieces[0]!;
  const len = piece.value.length;
  if (len <= 2 * overlap) return undefined;
  const mid = alignStart(piece.value, Math.floor(len / 2));
  const half = Math.floor(overlap / 2);
  return [{ pieces: [slice(piece, 0, alignStart(piece.value, mid + half))] }, { pieces: [slice(piece, alignStart(piece.value, mid - half), len)] }];
}
