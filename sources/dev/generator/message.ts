/** What the generator hands out: one Pub/Sub message, and what kind of traffic it is. */
export type MessageKind = "valid" | "duplicate" | "invalid";

export interface GeneratedMessage {
  data: string; // the exact message body (one JSON line, no newline)
  attributes: { event_id?: string; event_type?: string }; // Pub/Sub attributes; absent when unknown for invalid ones
  kind: MessageKind;
  eventId?: string; // the envelope event_id when there is one
}
