/**
 * Start, probe and stop the local Google Cloud Pub/Sub emulator.
 *
 * The emulator is a Java program (cloud-pubsub-emulator-*-all.jar). We start
 * the jar with `java -jar` when we can find it (about 1 s to ready on the dev
 * machines; no Python), else through `gcloud beta emulators pubsub start`
 * (a Python wrapper that spawns the same java; about 2 s).
 *
 * Process hygiene (the emulator must never outlive us):
 *  - The emulator runs under a tiny /bin/sh watchdog spawned with
 *    detached: false. The watchdog holds the read end of a pipe whose write end
 *    only this Node process holds. When that pipe reaches EOF (stop() closes it,
 *    or this process exits for any reason, SIGKILL included) the watchdog
 *    SIGTERMs the emulator and its children (`pkill -P`), i.e. the java process
 *    under the gcloud wrapper too.
 *  - stop() uses that same path, then waits for the processes to exit, and
 *    SIGKILLs whatever is still alive after a grace period.
 *  - Signalling the gcloud Python wrapper alone is not enough: it ignores
 *    SIGTERM and its java child keeps running. Killing the java child makes the
 *    wrapper exit.
 *
 * The emulator keeps topics, subscriptions and messages in memory only:
 * nothing survives stop().
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";

export interface EmulatorHandle {
  /** "127.0.0.1:PORT": pass it as PubSubTarget.emulatorHost (or PUBSUB_EMULATOR_HOST for other tools). */
  host: string;
  projectId: string;
  /** pid of the emulator process itself (java, or the gcloud wrapper), for diagnostics. */
  readonly pid: number | undefined;
  /** How long the emulator took from spawn to answering on its port. */
  readonly startMs: number;
  /** Stops the emulator and waits until its processes are gone. Idempotent. */
  stop(): Promise<void>;
}

export interface EmulatorCommand {
  command: string;
  args: string[];
  /** "jar": `java -jar <jar>`, takes --host/--port. "gcloud": takes --host-port/--project. */
  kind: "jar" | "gcloud";
}

export interface StartEmulatorOptions {
  projectId: string;
  /** 0 or undefined: pick a free port on 127.0.0.1. */
  port?: number;
  /**
   * Working directory for the emulator (created if missing). With gcloud it is
   * also passed as --data-dir (gcloud writes env.yaml there). The emulator
   * itself keeps all state in memory.
   */
  dataDir?: string;
  /** Receives every line the emulator prints (stdout and stderr). */
  log?: (line: string) => void;
  /** Default 30 000 ms. */
  readyTimeoutMs?: number;
  /** Force a launcher instead of the default preference (jar, then gcloud). */
  prefer?: "jar" | "gcloud";
}

export const EMULATOR_INSTALL_HINT =
  "To run locally you need the Google Cloud Pub/Sub emulator and a Java 11+ runtime. " +
  "On Debian/Ubuntu add Google's Cloud SDK apt repository (https://cloud.google.com/sdk/docs/install#deb) and run " +
  "`sudo apt-get install google-cloud-cli-pubsub-emulator` (plus `sudo apt-get install openjdk-17-jre-headless` if `java -version` fails); " +
  "with a standalone Google Cloud SDK install run `gcloud components install pubsub-emulator beta` instead. " +
  "Check it with `gcloud beta emulators pubsub start --host-port=127.0.0.1:8085 --project=local-dev` " +
  '(it prints "Server started, listening on 8085").';

const EMULATOR_JAR_RE = /^cloud-pubsub-emulator-.*\.jar$/;

interface Located {
  found?: EmulatorCommand;
  jar?: EmulatorCommand;
  gcloud?: EmulatorCommand;
  /** What was looked for and where; used in error messages. */
  notes: string[];
}

function isExecutableFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function whichSync(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}

function findJava(): string | undefined {
  const javaHome = process.env.JAVA_HOME;
  if (javaHome) {
    const p = path.join(javaHome, "bin", "java");
    if (isExecutableFile(p)) return p;
  }
  return whichSync("java");
}

function sdkRoots(gcloud: string | undefined): string[] {
  const roots: string[] = [];
  if (gcloud) {
    try {
      // <root>/bin/gcloud, usually reached through a symlink such as /usr/bin/gcloud
      roots.push(path.dirname(path.dirname(realpathSync(gcloud))));
    } catch {
      /* dangling symlink: ignore */
    }
  }
  if (process.env.CLOUDSDK_ROOT_DIR) roots.push(process.env.CLOUDSDK_ROOT_DIR);
  roots.push("/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk", "/opt/google-cloud-sdk", "/snap/google-cloud-sdk/current");
  return [...new Set(roots)];
}

function findJar(roots: string[]): string | undefined {
  for (const root of roots) {
    const lib = path.join(root, "platform", "pubsub-emulator", "lib");
    let names: string[];
    try {
      names = readdirSync(lib).filter((n) => EMULATOR_JAR_RE.test(n));
    } catch {
      continue;
    }
    if (names.length > 0) {
      names.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
      return path.join(lib, names[names.length - 1]!);
    }
  }
  return undefined;
}

function locate(): Located {
  const notes: string[] = [];
  const gcloudPath = whichSync("gcloud");
  const roots = sdkRoots(gcloudPath);
  const jarPath = findJar(roots);
  const java = findJava();
  const out: Located = { notes };

  if (jarPath && java) {
    out.jar = { kind: "jar", command: java, args: ["-jar", jarPath] };
  } else if (jarPath) {
    notes.push(`found ${jarPath} but no java (JAVA_HOME unset or invalid, no java on PATH)`);
  } else {
    notes.push(`no cloud-pubsub-emulator-*.jar under <sdk>/platform/pubsub-emulator/lib in ${roots.join(", ")}`);
  }

  if (gcloudPath) {
    // With the component missing, gcloud would fail (or prompt to install it).
    const componentInstalled = roots.some((r) => existsSync(path.join(r, "platform", "pubsub-emulator")));
    if (componentInstalled && (java || !jarPath)) {
      out.gcloud = { kind: "gcloud", command: gcloudPath, args: ["beta", "emulators", "pubsub", "start"] };
    } else if (!componentInstalled) {
      notes.push(`gcloud at ${gcloudPath} has no pubsub-emulator component`);
    }
  } else {
    notes.push("no gcloud on PATH");
  }
  out.found = out.jar ?? out.gcloud;
  return out;
}

/**
 * How to start the emulator on this machine: the jar through java when both
 * exist (faster start, no Python), else `gcloud beta emulators pubsub start`;
 * undefined when neither is installed.
 */
export function findEmulator(): EmulatorCommand | undefined {
  return locate().found;
}

/**
 * True when a Pub/Sub emulator answers on host ("127.0.0.1:8085"): its HTTP
 * endpoint returns "Ok" on GET /.
 */
export async function isEmulatorReachable(host: string, timeoutMs = 1000): Promise<boolean> {
  let url: URL;
  try {
    url = new URL(`http://${host}/`);
  } catch {
    return false;
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(url.port || 80);
  return new Promise<boolean>((resolve) => {
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    const req = http.get({ hostname, port, path: "/", agent: false, headers: { connection: "close" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (body.length < 64) body += chunk;
      });
      res.on("end", () => done(res.statusCode === 200 && body.trim() === "Ok"));
      res.on("error", () => done(false));
    });
    req.on("error", () => done(false));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error("could not pick a free port"))));
    });
  });
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

// ---------------------------------------------------------------------------
// Process tree helpers (Linux /proc, with a `ps` fallback elsewhere)

interface ProcRef {
  pid: number;
  /** Start time (clock ticks since boot) so we never signal a recycled pid. */
  start: string | undefined;
}

function procStat(pid: number): { ppid: number; start: string } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may contain spaces and parentheses: parse after the last ")".
    const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
    // rest[0] = state (field 3), rest[1] = ppid (field 4), rest[19] = starttime (field 22)
    return { ppid: Number(rest[1]), start: rest[19] ?? "" };
  } catch {
    return undefined;
  }
}

function parentMap(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  const add = (pid: number, ppid: number) => {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  };
  if (existsSync("/proc/self/stat")) {
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      const st = procStat(Number(name));
      if (st) add(Number(name), st.ppid);
    }
  } else {
    try {
      const out = execFileSync("ps", ["-A", "-o", "pid=,ppid="], { encoding: "utf8" });
      for (const line of out.split("\n")) {
        const [pid, ppid] = line.trim().split(/\s+/).map(Number);
        if (pid && ppid !== undefined && !Number.isNaN(ppid)) add(pid, ppid);
      }
    } catch {
      /* no ps: we can only see direct children */
    }
  }
  return children;
}

/** All descendants of pid, deepest first (kill order). */
function descendants(pid: number): ProcRef[] {
  const children = parentMap();
  const out: ProcRef[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      walk(c);
      out.push({ pid: c, start: procStat(c)?.start });
    }
  };
  walk(pid);
  return out;
}

function isAlive(ref: ProcRef): boolean {
  if (ref.start !== undefined) {
    const st = procStat(ref.pid);
    if (!st || st.start !== ref.start) return false;
  }
  try {
    process.kill(ref.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signal(ref: ProcRef, sig: NodeJS.Signals): void {
  if (!isAlive(ref)) return;
  try {
    process.kill(ref.pid, sig);
  } catch {
    /* already gone */
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitGone(refs: ProcRef[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!refs.some(isAlive)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

/**
 * Runs "$@" in the background and kills it (and its children) as soon as fd 3
 * reaches EOF, i.e. when the Node process closes its end or dies. Exits with
 * the emulator's exit status.
 */
const WATCHDOG_SCRIPT = [
  '"$@" 3<&- &',
  "child=$!",
  '{ read -r _ignored <&3; pkill -TERM -P "$child" 2>/dev/null; kill -TERM "$child" 2>/dev/null; } &',
  "watcher=$!",
  "exec 3<&-",
  'wait "$child"',
  "rc=$?",
  'kill "$watcher" 2>/dev/null',
  'exit "$rc"',
].join("\n");

// ---------------------------------------------------------------------------

class StartError extends Error {
  constructor(
    message: string,
    readonly addressInUse = false,
  ) {
    super(message);
  }
}

function emulatorArgs(cmd: EmulatorCommand, port: number, projectId: string, dataDir: string | undefined): string[] {
  if (cmd.kind === "jar") return [...cmd.args, "--host=127.0.0.1", `--port=${port}`];
  const args = [...cmd.args, `--host-port=127.0.0.1:${port}`, `--project=${projectId}`, "--quiet"];
  if (dataDir) args.push(`--data-dir=${dataDir}`);
  return args;
}

async function launch(cmd: EmulatorCommand, port: number, opts: StartEmulatorOptions): Promise<EmulatorHandle> {
  const host = `127.0.0.1:${port}`;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const args = emulatorArgs(cmd, port, opts.projectId, opts.dataDir);
  const commandLine = [cmd.command, ...args].join(" ");
  // Its files hold the messages (personal data included): private, like the data dir it lives in.
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });

  const tail: string[] = [];
  const onLine = (line: string) => {
    tail.push(line);
    if (tail.length > 30) tail.shift();
    opts.log?.(line);
  };
  const lastLines = () => (tail.length ? `\nLast emulator output:\n  ${tail.slice(-15).join("\n  ")}` : "\n(no emulator output)");

  const t0 = performance.now();
  const child: ChildProcess = spawn("/bin/sh", ["-c", WATCHDOG_SCRIPT, "pubsub-emulator-watchdog", cmd.command, ...args], {
    detached: false,
    stdio: ["ignore", "pipe", "pipe", "pipe"],
    cwd: opts.dataDir,
    env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: "1" },
  });
  for (const s of [child.stdout, child.stderr]) {
    if (s) createInterface({ input: s, crlfDelay: Infinity }).on("line", onLine);
  }
  let exitInfo: string | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, sig) => {
      exitInfo = sig ? `killed by ${sig}` : `exit code ${code}`;
      resolve();
    });
    child.once("error", (err) => {
      spawnError = err;
      exitInfo = `could not spawn /bin/sh: ${err.message}`;
      resolve();
    });
  });
  // The write end of the watchdog pipe: closing it (or our death) stops the emulator.
  const lifeline = child.stdio[3] as net.Socket | null;
  lifeline?.on("error", () => {});

  let emulatorRef: ProcRef | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const tree = child.pid ? descendants(child.pid) : [];
      lifeline?.destroy();
      if (exitInfo === undefined) {
        await Promise.race([exited, sleep(10_000)]);
        if (exitInfo === undefined) {
          // Watchdog did not manage (no pkill, hung JVM, ...): kill everything we know of.
          for (const ref of [...(child.pid ? descendants(child.pid) : []), ...tree]) signal(ref, "SIGKILL");
          child.kill("SIGKILL");
          await Promise.race([exited, sleep(5_000)]);
        }
      }
      // e.g. the java under the gcloud wrapper when pkill is missing
      for (const ref of tree) signal(ref, "SIGTERM");
      if (!(await waitGone(tree, 5_000))) {
        for (const ref of tree) signal(ref, "SIGKILL");
        await waitGone(tree, 2_000);
      }
    })());

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exitInfo !== undefined) {
      await stop();
      const inUse = tail.some((l) => /Address already in use|BindException/i.test(l));
      throw new StartError(
        `Pub/Sub emulator exited before it was ready (${exitInfo}). Command: ${commandLine}.` +
          (inUse ? ` Port ${port} on 127.0.0.1 is already in use: pick another port (or port 0 for a free one).` : "") +
          (spawnError ? "" : ` If it says java or a component is missing: ${EMULATOR_INSTALL_HINT}`) +
          lastLines(),
        inUse,
      );
    }
    if (await isEmulatorReachable(host, 500)) break;
    if (Date.now() >= deadline) {
      await stop();
      throw new StartError(
        `Pub/Sub emulator did not answer on http://${host}/ within ${readyTimeoutMs} ms (command: ${commandLine}). ` +
          `The machine may be overloaded: retry with a larger readyTimeoutMs, or start it by hand to see why.` +
          lastLines(),
      );
    }
    await sleep(50);
  }
  const startMs = Math.round(performance.now() - t0);
  if (child.pid) {
    const tree = descendants(child.pid);
    // deepest-first: the last java in the list is the emulator itself
    emulatorRef = tree.find((r) => {
      try {
        return readFileSync(`/proc/${r.pid}/cmdline`, "utf8").includes("cloud-pubsub-emulator");
      } catch {
        return false;
      }
    });
  }
  return {
    host,
    projectId: opts.projectId,
    pid: emulatorRef?.pid,
    startMs,
    stop,
  };
}

/**
 * Starts a fresh emulator on 127.0.0.1 and resolves once it answers on its
 * port. Throws an Error saying what failed and what to do.
 */
export async function startEmulator(opts: StartEmulatorOptions): Promise<EmulatorHandle> {
  if (!opts.projectId) throw new Error('startEmulator: projectId is required (any id works for the emulator, e.g. "local-dev")');
  const located = locate();
  const cmd = opts.prefer ? (opts.prefer === "jar" ? located.jar : located.gcloud) : located.found;
  if (!cmd) {
    throw new Error(
      `Cannot start the Pub/Sub emulator${opts.prefer ? ` with ${opts.prefer}` : ""}: no usable installation found (${located.notes.join("; ")}). ${EMULATOR_INSTALL_HINT}`,
    );
  }
  const fixedPort = opts.port && opts.port > 0 ? opts.port : undefined;
  if (fixedPort !== undefined && !(await portIsFree(fixedPort))) {
    const running = await isEmulatorReachable(`127.0.0.1:${fixedPort}`);
    throw new Error(
      `Cannot start the Pub/Sub emulator on 127.0.0.1:${fixedPort}: the port is already in use` +
        (running
          ? ` by a running Pub/Sub emulator. Use it (PUBSUB_EMULATOR_HOST=127.0.0.1:${fixedPort}) or stop it first.`
          : `. Stop what listens there (\`ss -ltnp 'sport = :${fixedPort}'\`), pick another port, or pass port 0 for a free one.`),
    );
  }
  const attempts = fixedPort === undefined ? 3 : 1;
  for (let i = 0; ; i++) {
    const port = fixedPort ?? (await freePort());
    try {
      return await launch(cmd, port, opts);
    } catch (e) {
      // A free port picked by us can be taken by someone else before java binds it.
      if (e instanceof StartError && e.addressInUse && i + 1 < attempts) continue;
      throw e;
    }
  }
}
