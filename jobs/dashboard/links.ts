/**
 * `ecom dashboard`: the addresses of the running instance's two pages, each
 * with the instance's access token (opening one once signs the browser in;
 * see pipelines/local/instance.ts), or the fact that none runs.
 */
import { findInstance, instanceFile } from "../../pipelines/local/instance.js";
import { DASHBOARD_PATHS } from "./routes.js";

export interface DashboardLinks {
  ops: string;
  business: string;
}

export type DashboardStatus =
  | { running: true; pid: number; port: number; started_at: string; links: DashboardLinks }
  | { running: false; instance_file: string };

/** The two pages' sign-in links for an instance on `port` with `token`. */
export function dashboardLinks(port: number, token: string): DashboardLinks {
  const link = (p: string) => `http://127.0.0.1:${port}${p}?token=${encodeURIComponent(token)}`;
  return { ops: link(DASHBOARD_PATHS.ops), business: link(DASHBOARD_PATHS.business) };
}

/** The running instance of the data dir and its links, or where none was found. */
export function dashboardStatus(dataDir: string): DashboardStatus {
  const info = findInstance(dataDir);
  if (!info) return { running: false, instance_file: instanceFile(dataDir) };
  return { running: true, pid: info.pid, port: info.port, started_at: info.startedAt, links: dashboardLinks(info.port, info.token) };
}
