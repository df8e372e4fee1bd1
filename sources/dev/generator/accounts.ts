/**
 * Customer events of a session: login (at landing, while browsing, or to
 * check out) and profile_update (email, phone, name, address or password).
 *
 * Guarantees: a session carries a user_id only after a successful login (or
 * when it was already signed in at landing); a failed login clears it. A
 * profile_update changes the customer's cached profile, so their later
 * orders carry the new details.
 */
import type { Session, World } from "./model.js";
import { type Address, makeAddress, makeEmail, phoneNumber } from "./customers.js";
import { CHECKOUT_LOGIN_METHODS, LOGIN_METHOD_CUM, LOGIN_METHODS } from "./reference/clickstream.js";
import { LAST_NAMES } from "./reference/people.js";

/** A login; after a failure while browsing, 70 % try again on the next step, the others browse on anonymously. */
export function login(w: World, s: Session, t: number, success: boolean): void {
  const r = w.r;
  s.triedLogin = true;
  if (success && s.profile !== undefined) s.userId = s.profile.userId;
  else if (!success) {
    s.userId = undefined;
    if (s.phase === "browse" && r.chance(0.7)) s.phase = "login_retry";
    else s.profile = undefined; // gave up, browses anonymously
  }
  const method = r.weighted(LOGIN_METHOD_CUM);
  w.out.emitSession("login", s, { method: LOGIN_METHODS[method]!, success }, t);
}

/** Signing in to check out: always succeeds; an anonymous shopper turns out to be a registered customer. */
export function checkoutLogin(w: World, s: Session, t: number): void {
  const profile = (s.profile ??= w.customers.registered());
  s.triedLogin = true;
  s.userId = profile.userId;
  w.out.emitSession("login", s, { method: w.r.pick(CHECKOUT_LOGIN_METHODS), success: true }, t);
}

/** A signed-in customer edits their profile: the password (8 %), or any mix of email, phone, name and address. */
export function profileUpdate(w: World, s: Session, t: number): void {
  const r = w.r;
  const p = s.profile!; // only signed-in sessions edit a profile, and they have one
  if (r.chance(0.08)) {
    w.out.emitSession("profile_update", s, { changed_fields: ["password"] }, t);
    return;
  }
  const changed: string[] = [];
  let email: string | undefined, phone: string | undefined, name: string | undefined, address: Address | undefined;
  const mask = r.int(1, 15);
  if (mask & 1) {
    p.email = makeEmail(r, p.first, p.last + (r.chance(0.5) ? "" : String(r.int(1, 9))));
    email = p.email;
    changed.push("email");
  }
  if (mask & 2) {
    p.phone = phoneNumber(r, p.country);
    phone = p.phone;
    changed.push("phone");
  }
  if (mask & 4) {
    p.last = r.pick(LAST_NAMES);
    p.name = p.first + " " + p.last;
    name = p.name;
    changed.push("name");
  }
  if (mask & 8) {
    p.address = makeAddress(r, p.country);
    address = p.address;
    changed.push("address");
  }
  w.out.emitSession("profile_update", s, { changed_fields: changed, email, phone, name, address }, t);
}
