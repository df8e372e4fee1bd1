/**
 * `npm run bench`: every benchmark of the platform in one run, on this machine.
 * Figures are events/s and latency percentiles; nothing here is a test.
 *
 *   BENCH_EVENTS   events in the generated file (default 1 000 000)
 *   BENCH_RATE     steady publish rate through the emulator (default 5 000/s)
 *   BENCH_SECONDS  how long to publish at that rate (default 30)
 *   BENCH_ONLY     comma list to run a subset: file,beam,latency,gold,privacy
 */
import os from "node:os";
import path from "node:path";
import { benchDir, benchEmulatorLatency, benchFile, benchFileIngest } from "./ingest.js";

const events = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const rate = Number(process.env.BENCH_RATE ?? 5_000);
const seconds = Number(process.env.BENCH_SECONDS ?? 30);
const only = new Set((process.env.BENCH_ONLY ?? "file,beam,latency,gold,privacy").split(","));

const results: Record<string, unknown> = {
  machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
};
const say = (line: string) => process.stderr.write(line + "\n");

const file = await benchFile(events);
say(`input: ${file} (${events} events)`);

if (only.has("file")) {
  const r = await benchFileIngest(file, path.join(benchDir(), "data-local"));
  results.local_file = r;
  say(`local runner, file -> Bronze + Silver: ${r.events_per_s} events/s (${r.events} events in ${r.seconds.toFixed(1)} s), peak RSS ${r.peak_rss_mb} MB`);
}

if (only.has("beam")) {
  const { benchBeam } = await import("./beam.js");
  const r = await benchBeam(file);
  results.beam_direct_file = r;
  const local = results.local_file as { events_per_s: number } | undefined;
  say(`Beam DirectRunner, same file: ${r.events_per_s} events/s` + (local ? ` (${(r.events_per_s / local.events_per_s).toFixed(2)} x the local runner)` : ""));
}

if (only.has("latency")) {
  const r = await benchEmulatorLatency(rate, seconds, path.join(benchDir(), "data-latency"));
  results.emulator_latency = r;
  say(`emulator, ${rate}/s for ${seconds} s: publish -> Silver p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, max ${r.max_ms} ms (${r.events} events)`);
}

if (only.has("gold")) {
  try {
    const gold = (await import("./gold.js")) as { benchGold?: (opts: Record<string, unknown>) => Promise<Record<string, unknown>> };
    if (gold.benchGold) {
      const r = await gold.benchGold({ file, events });
      results.gold = r;
      say(`gold: ${JSON.stringify(r)}`);
    }
  } catch (err) {
    say(`gold benchmark not run: ${(err as Error).message}`);
  }
}

if (only.has("privacy")) {
  const { benchPrivacy } = await import("./privacy.js");
  const r = await benchPrivacy(file, events);
  results.privacy_erasure = r;
  for (const e of [r.small, r.large]) {
    say(
      `erasure of one person (${r.person_rows} rows) from ${e.events} events (${e.silver_rows} Silver rows, ${e.bronze_files} of their Bronze files): ${e.seconds} s ` +
        `(find ${e.phases_ms.find} ms, commit ${e.phases_ms.commit} ms, Gold ${e.phases_ms.gold} ms, verify ${e.phases_ms.verify} ms), ${e.rows_touched} rows touched, ${e.keys_destroyed} keys destroyed`,
    );
  }
}

process.stdout.write(JSON.stringify(results, null, 2) + "\n");
