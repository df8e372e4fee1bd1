/**
 * A session's device context: IP address, user agent, locale, country and
 * app version, as the JSON of the envelope's `context` object.
 *
 * The JSON comes in two parts, `{"ip":"…"` (per session) and the rest (user
 * agent, locale, country, app version), which is cached and shared by every
 * session with the same combination. Together they equal JSON.stringify of
 * the context. IPs are drawn from public-looking IPv4 ranges (never 10/8,
 * 127/8, 172/8 or 192/8) and from the IPv6 documentation prefix.
 */
import type { Rand } from "./random.js";
import { PLATFORM_WEB, USER_AGENTS, WEB_APP_VERSION } from "./reference/clickstream.js";
import { COUNTRIES } from "./reference/countries.js";

interface Ctx {
  ip: string;
  user_agent: string;
  locale: string;
  country: string;
  app_version: string;
}

export interface ContextJson {
  ip: string;
  rest: string;
}

export class DeviceContexts {
  private readonly rest: (string | undefined)[] = [];

  /** A context for a new session on `platform` in `country` (indexes). */
  draw(r: Rand, platform: number, country: number): ContextJson {
    let ip: string;
    if (r.chance(0.12)) {
      ip = "2001:db8:" + r.int(0, 0xffff).toString(16) + ":" + r.int(0, 0xffff).toString(16) + "::" + r.int(1, 0xffff).toString(16);
    } else {
      let a = r.int(11, 223);
      if (a === 127 || a === 10 || a === 172 || a === 192) a += 1;
      ip = a + "." + r.int(0, 255) + "." + r.int(0, 255) + "." + r.int(1, 254);
    }
    const c = COUNTRIES[country]!;
    // Euro-zone visitors browse in English 15 % of the time.
    const english = !(c.cur !== 1 || r.chance(0.85));
    const uas = USER_AGENTS[platform]!;
    const uaIdx = r.int(0, uas.length - 1);
    const key = ((platform * 8 + uaIdx) * COUNTRIES.length + country) * 2 + (english ? 1 : 0);
    let rest = this.rest[key];
    if (rest === undefined) {
      const ua = uas[uaIdx]!;
      const ctx: Ctx = {
        ip: "",
        user_agent: ua,
        locale: english ? "en-GB" : c.locale,
        country: c.code,
        app_version: platform === PLATFORM_WEB ? WEB_APP_VERSION : ua.slice(12, ua.indexOf(" ")),
      };
      rest = this.rest[key] = JSON.stringify(ctx).slice('{"ip":""'.length);
    }
    return { ip: '{"ip":"' + ip + '"', rest };
  }
}
