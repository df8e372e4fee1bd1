/**
 * Bodies for invalid messages, modelled on what reaches a real topic by
 * mistake: an HTML error page from a proxy, form encoding, control bytes, a
 * cut-off JSON, CSV, Python's repr of a dict; JSON that is not an object; and
 * event types that are misspelt, mis-cased or not (yet) in the contract.
 */
export const GARBAGE = [
  "<html><body><h1>502 Bad Gateway</h1></body></html>",
  "event_type=page_view&event_id=1",
  "\u0000\u0001\u0002\u0003\ufffd\ufffd",
  '{"event_id": ',
  "undefined",
  "page_view,2024-01-01T00:00:00Z,web",
  "{'event_type': 'page_view'}",
];

/** JSON values that are not objects; an array around a real event is added per message. */
export const NOT_OBJECTS = ["[]", "null", "42", "true", '"page_view"'];

export const UNKNOWN_TYPES = ["page_vew", "checkout_started", "cart_abandoned", "PAGE_VIEW", "order_returned", "wishlist_add", "add-to-cart"];
