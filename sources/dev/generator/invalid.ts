/**
 * Invalid messages, made from a recent valid one, in seven flavours: garbage
 * (a cut-off message or a non-JSON body), JSON that is not an object, an
 * unknown event type, an unknown schema version, a required payload field
 * missing, a payload field of the wrong JSON type, and a bad event_id.
 *
 * Guarantees: every draw is from the fault stream; an invalid message never
 * reuses a valid event's event_id (it gets a fresh one, or a malformed one);
 * its attributes carry the event_id and event_type when the body has them.
 */
import { unreachable } from "./exhaustive.js";
import type { GeneratedMessage } from "./message.js";
import { type Rand, cumulative } from "./random.js";
import { REQUIRED_FIELDS, type EventType } from "./reference/event-types.js";
import { GARBAGE, NOT_OBJECTS, UNKNOWN_TYPES } from "./reference/invalid.js";

export type InvalidFlavour = "garbage" | "not_object" | "unknown_type" | "bad_version" | "missing_field" | "wrong_type" | "bad_id";

const FLAVOURS: readonly InvalidFlavour[] = ["garbage", "not_object", "unknown_type", "bad_version", "missing_field", "wrong_type", "bad_id"];
const FLAVOUR_CUM = cumulative([14, 10, 15, 15, 18, 16, 12]);

export function drawFlavour(f: Rand): InvalidFlavour {
  return FLAVOURS[f.weighted(FLAVOUR_CUM)]!;
}

/** An invalid message of `flavour` made from the valid message body `src`. */
export function invalidMessage(f: Rand, flavour: InvalidFlavour, src: string): GeneratedMessage {
  if (flavour === "garbage") {
    const data = f.chance(0.5) ? src.slice(0, f.int(1, src.length - 2)) : f.pick(GARBAGE);
    return { data, attributes: {}, kind: "invalid" };
  }
  if (flavour === "not_object") {
    const data = f.pick([...NOT_OBJECTS, "[" + src + "]"]);
    return { data, attributes: {}, kind: "invalid" };
  }
  const ev = JSON.parse(src) as Record<string, unknown> & { event_type: EventType; payload: Record<string, unknown> };
  let id = f.uuid();
  ev.event_id = id;
  switch (flavour) {
    case "unknown_type":
      (ev as Record<string, unknown>).event_type = f.pick(UNKNOWN_TYPES);
      break;
    case "bad_version":
      ev.schema_version = f.chance(0.7) ? 99 : 2;
      break;
    case "missing_field":
      delete ev.payload[f.pick(REQUIRED_FIELDS[ev.event_type])];
      break;
    case "wrong_type":
      wrongType(f, ev.payload);
      break;
    case "bad_id":
      id = f.pick(["not-a-uuid", "", "12345", "evt_" + f.id12(), id.slice(0, 23), id.replace(/[0-9a-f]/, "z")]);
      ev.event_id = id;
      break;
    default:
      return unreachable(flavour, "invalid flavour");
  }
  const type = ev.event_type as string;
  const attributes: { event_id?: string; event_type?: string } = id === "" ? { event_type: type } : { event_id: id, event_type: type };
  return { data: JSON.stringify(ev), attributes, kind: "invalid", eventId: id === "" ? undefined : id };
}

/** Gives one required payload field the wrong JSON type (money becomes a decimal string). */
function wrongType(f: Rand, payload: Record<string, unknown>): void {
  const keys = Object.keys(payload);
  for (const k of keys) {
    const v = payload[k];
    if (k.endsWith("_minor") && typeof v === "number") {
      payload[k] = (v / 100).toFixed(2);
      return;
    }
  }
  for (const k of ["quantity", "results_count", "quantity_on_hand"]) {
    if (typeof payload[k] === "number") {
      payload[k] = String(payload[k]);
      return;
    }
  }
  if (typeof payload.success === "boolean") {
    payload.success = payload.success ? "true" : "false";
    return;
  }
  if (Array.isArray(payload.changed_fields)) {
    payload.changed_fields = (payload.changed_fields as string[]).join(",");
    return;
  }
  if (Array.isArray(payload.items)) {
    payload.items = {};
    return;
  }
  // page_view / order_* with only string fields: a number where a string belongs
  for (const k of ["order_id", "url", "query"]) {
    if (typeof payload[k] === "string") {
      payload[k] = f.int(1, 99999);
      return;
    }
  }
}
