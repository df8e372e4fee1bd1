/**
 * A batch's free text through a text inspector (Cloud DLP in production):
 * the distinct texts of the fresh Silver rows' free-text columns (search
 * query, title, url, failure message, ...) in one `inspect` call, each
 * finding's span replaced by `redact` (a token). Runs in the commit between
 * projection and the Silver write, so it is one async step per batch,
 * never per event.
 *
 * Fail closed: the inspector's failure, or an answer that does not match
 * the texts, rejects the batch, which then commits nothing and acks nothing.
 */
import { EVENT_PERSONAL_COLUMNS } from "../schemas/personal-columns.js";
import type { Domain } from "../schemas/registry.js";
import type { TextInspector } from "../sinks/roles.js";
import { applyFindings } from "../transforms/text-findings.js";
import type { SilverRow } from "../transforms/to-silver.js";

export interface TextInspection {
  inspector: TextInspector;
  /** What a found span becomes in Silver. */
  redact(span: string, infoType: string): string;
}

/** Rewrites the rows in place; returns how many column values changed. */
export async function inspectFreeText(rows: ReadonlyMap<Domain, SilverRow[]>, text: TextInspection): Promise<number> {
  const texts: string[] = [];
  const index = new Map<string, number>();
  for (const [domain, list] of rows) {
    const cols = EVENT_PERSONAL_COLUMNS[domain].freeText;
    for (const row of list) {
      for (const c of cols) {
        const v = row[c];
        if (typeof v === "string" && v.length > 0 && !index.has(v)) index.set(v, texts.push(v) - 1);
      }
    }
  }
  if (texts.length === 0) return 0;
  const findings = await text.inspector.inspect(texts);
  if (findings.length !== texts.length) {
    throw new Error(`the text inspector ${text.inspector.name} answered for ${findings.length} of ${texts.length} texts; the batch was not committed`);
  }
  const rewritten = texts.map((t, i) => (findings[i]!.length ? applyFindings(t, findings[i]!, text.redact) : t));
  let changed = 0;
  for (const [domain, list] of rows) {
    const cols = EVENT_PERSONAL_COLUMNS[domain].freeText;
    for (const row of list) {
      for (const c of cols) {
        const v = row[c];
        if (typeof v !== "string" || v.length === 0) continue;
        const out = rewritten[index.get(v)!]!;
        if (out !== v) {
          row[c] = out;
          changed++;
        }
      }
    }
  }
  return changed;
}
