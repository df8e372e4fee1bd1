/**
 * Which text inspector finds personal data in free text (search queries,
 * messages, titles, URLs), and the one function that opens it:
 *
 *   { kind: "builtin" }   the built-in rules (the default, and locally): they
 *                         already run inside the per-event transform
 *                         (transforms/to-silver.ts), so no batch step is added
 *   { kind: "dlp", project, location?, endpoint? }
 *                         Cloud DLP (sinks/dlp/inspector.ts), asked once per
 *                         batch on top of the built-in rules; `endpoint`
 *                         host:port of another DLP endpoint (a regional one,
 *                         or a local server speaking the DLP API: plaintext,
 *                         loopback only)
 */
import type { DlpInspector } from "./dlp/inspector.js";

export const TEXT_INSPECTORS = ["builtin", "dlp"] as const;

export type TextInspectorSource = { kind: "builtin" } | { kind: "dlp"; project: string; location?: string; endpoint?: string };

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/** The batch inspector `source` names; undefined for the built-in one (it needs no batch step). */
export async function openTextInspector(source: TextInspectorSource | undefined): Promise<DlpInspector | undefined> {
  if (source === undefined || source.kind === "builtin") return undefined;
  const m = source.endpoint === undefined ? undefined : /^(.+):(\d+)$/.exec(source.endpoint);
  if (source.endpoint !== undefined && !m) throw new Error(`the Cloud DLP endpoint "${source.endpoint}" is not host:port.`);
  // Loaded only when asked for: the DLP client is large, and most runs use the built-in rules.
  const { openDlpInspector } = await import("./dlp/inspector.js");
  return openDlpInspector({
    project: source.project,
    ...(source.location ? { location: source.location } : {}),
    ...(m ? { apiEndpoint: m[1]!, port: Number(m[2]), insecure: LOOPBACK.test(m[1]!) } : {}),
  });
}
