/**
 * The dashboards on the instance port (pipelines/local/instance.ts, behind
 * its Host, Origin and token checks, with its Content-Security-Policy):
 *
 *   GET /dashboard/ops             the operations page
 *   GET /dashboard/business        the business page (?from=YYYY-MM-DD&to=YYYY-MM-DD)
 *   GET /dashboard/api/ops         its figures as JSON (ops.ts)
 *   GET /dashboard/api/business    its figures as JSON for a range of days (business.ts)
 *   GET /dashboard/assets/<file>   the pages' scripts and styles, and Chart.js from node_modules
 *
 * Every asset is a fixed file named here (no path from the request reaches
 * the file system), read once when the routes are made. The pages load only
 * these files and fetch only the JSON routes, so nothing leaves the machine.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RouteAnswer, Routes } from "../../pipelines/local/instance.js";
import type { Query } from "../gold-report.js";
import { RangeRefused, businessFigures, latestDay, requestedRange } from "./business.js";
import type { OpsSampler } from "./ops.js";

export const DASHBOARD_PATHS = { ops: "/dashboard/ops", business: "/dashboard/business" } as const;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** The folder of the pages' own files: beside this module in the source tree (dist/ holds only compiled TypeScript). */
function webDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, "package.json"))) return path.join(dir, "jobs", "dashboard", "web");
    const up = path.dirname(dir);
    if (up === dir) throw new Error("cannot find the dashboard's web files: no package.json above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** Chart.js's self-contained browser build, from the installed package. */
function chartJsFile(): string {
  const main = createRequire(import.meta.url).resolve("chart.js");
  return path.join(path.dirname(main), "chart.umd.min.js");
}

function asset(file: string): RouteAnswer {
  const type = TYPES[path.extname(file)];
  if (!type) throw new Error(`no content type for ${file}`);
  return { type, body: fs.readFileSync(file) };
}

const json = (value: unknown): RouteAnswer => ({ type: "application/json", body: JSON.stringify(value) });

export interface DashboardSources {
  /** One read-only statement (the instance's guard). */
  query: Query;
  /** The operations figures (metrics registry, alert state). */
  ops: OpsSampler;
}

export function dashboardRoutes(sources: DashboardSources): Routes {
  const web = webDir();
  const pages = { ops: asset(path.join(web, "ops.html")), business: asset(path.join(web, "business.html")) };
  const files: Record<string, RouteAnswer> = {
    "chart.umd.min.js": asset(chartJsFile()),
    "dashboard.css": asset(path.join(web, "dashboard.css")),
    "common.js": asset(path.join(web, "common.js")),
    "business.js": asset(path.join(web, "business.js")),
    "ops.js": asset(path.join(web, "ops.js")),
    "favicon.svg": asset(path.join(web, "favicon.svg")),
  };
  const routes: Routes = {
    [`GET ${DASHBOARD_PATHS.ops}`]: async () => pages.ops,
    [`GET ${DASHBOARD_PATHS.business}`]: async () => pages.business,
    "GET /dashboard/api/ops": async () => json(await sources.ops.view()),
    "GET /dashboard/api/business": async (_body, { url }) => {
      const latest = await latestDay(sources.query);
      let range: ReturnType<typeof requestedRange>;
      try {
        range = requestedRange(url.searchParams, latest);
      } catch (err) {
        if (err instanceof RangeRefused) return { status: 400, body: `refused: ${err.message}\n` };
        throw err;
      }
      return json(await businessFigures(sources.query, range, latest));
    },
  };
  for (const [name, answer] of Object.entries(files)) routes[`GET /dashboard/assets/${name}`] = async () => answer;
  return routes;
}
