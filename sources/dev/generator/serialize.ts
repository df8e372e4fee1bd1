/**
 * Serialises a generated event into a message: the envelope
 * { event_id, event_type, schema_version, event_time, source, user_id?,
 *   anonymous_id?, session_id?, context?, payload } as one JSON line, and the
 * Pub/Sub attributes (event_id, event_type) beside it.
 *
 * Guarantee: the data is exactly JSON.stringify of that event object, though
 * it is concatenated by hand for speed: the envelope's strings are ids,
 * constants and timestamps that never need escaping (the reference lists are
 * checked at load, see reference/json-safe.ts), a session's envelope tail is
 * serialised once per session, and hand-built payloads are passed in as JSON.
 * The event id is drawn here, from the simulation stream, after the payload.
 */
import type { GeneratedMessage } from "./message.js";
import type { PanInjector } from "./pans.js";
import type { Rand } from "./random.js";
import { EVENT_TYPES, type EventType } from "./reference/event-types.js";

/** What the writer reads from a session to build (and cache) its envelope tail. */
export interface SessionEnvelope {
  id: string;
  anon: string;
  userId: string | undefined;
  source: string;
  /** `{"ip":"…"`: the session's own part of its context JSON */
  ctxIp: string;
  /** the rest of the context JSON (user agent, locale, country, app version, `}`), shared between sessions */
  ctxRest: string;
  /** cached envelope from `,"source":` up to ctxIp; valid while tailUser === userId */
  tail: string;
  tailUser: string | undefined | null;
}

const TYPE_MID: Record<string, string> = {};
for (const t of EVENT_TYPES) TYPE_MID[t] = '","event_type":"' + t + '","schema_version":1,"event_time":"';

export class EventWriter {
  /** the last event written */
  data = "";
  id = "";
  type = "";
  time = 0;

  private flat = 0;
  private isoSec = NaN;
  private isoPrefix = "";

  constructor(
    private readonly r: Rand,
    private readonly pans: PanInjector,
  ) {}

  /** A server-side event (no context); payload is an object or its JSON. */
  emit(type: EventType, source: string, userId: string | undefined, sessionId: string | undefined, payload: object | string, t: number): void {
    let tail = ',"source":"' + source + '"';
    if (userId !== undefined) tail += ',"user_id":"' + userId + '"';
    if (sessionId !== undefined) tail += ',"session_id":"' + sessionId + '"';
    this.write(type, tail, "", payload, t);
  }

  /** A clickstream or customer event of session `s`. */
  emitSession(type: EventType, s: SessionEnvelope, payload: object | string, t: number): void {
    if (s.tailUser !== s.userId) {
      let tail = ',"source":"' + s.source + '"';
      if (s.userId !== undefined) tail += ',"user_id":"' + s.userId + '"';
      tail += ',"anonymous_id":"' + s.anon + '","session_id":"' + s.id + '","context":' + s.ctxIp;
      this.flat ^= tail.charCodeAt(tail.length >> 1); // flatten once, reused for every event of the session
      s.tail = tail;
      s.tailUser = s.userId;
    }
    this.write(type, s.tail, s.ctxRest, payload, t);
  }

  /** The last event as a valid message. */
  message(): GeneratedMessage {
    const id = this.id;
    return { data: this.data, attributes: { event_id: id, event_type: this.type }, kind: "valid", eventId: id };
  }

  /** `tail` + `tail2` is the envelope from `,"source":` up to (not including) the payload. */
  private write(type: EventType, tail: string, tail2: string, payload: object | string, t: number): void {
    const id = this.r.uuid();
    const data =
      '{"event_id":"' +
      id +
      TYPE_MID[type]! +
      this.iso(t) +
      '"' +
      tail +
      tail2 +
      ',"payload":' +
      (typeof payload === "string" ? payload : JSON.stringify(payload)) +
      "}";
    // Reading a character makes V8 flatten the concatenation rope now, so the
    // message is one flat string (cheaper for the GC and for the consumer).
    this.flat ^= data.charCodeAt(data.length >> 1);
    this.data = data;
    this.id = id;
    this.type = type;
    this.time = t;
    this.pans.counted();
  }

  /** RFC 3339 UTC with milliseconds; the date part is formatted once per second. */
  private iso(t: number): string {
    const ms = Math.floor(t);
    const sec = Math.floor(ms / 1000);
    if (sec !== this.isoSec) {
      this.isoSec = sec;
      this.isoPrefix = new Date(sec * 1000).toISOString().slice(0, 20);
    }
    const rem = ms - sec * 1000;
    return this.isoPrefix + (rem < 10 ? "00" + rem : rem < 100 ? "0" + rem : "" + rem) + "Z";
  }
}
