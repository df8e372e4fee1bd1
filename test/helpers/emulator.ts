/**
 * A fresh Pub/Sub emulator per test file, on a free port of 127.0.0.1.
 *
 * When the emulator is not installed this returns { skip: reason } so local runs
 * skip the emulator tests with an install hint, except under CI=true, where it
 * throws: CI must fail when the emulator is missing.
 *
 * Usage (top-level await is fine in vitest ESM test files; the skip decision has
 * to be known while tests are collected, hence not inside beforeAll):
 *
 *   import { afterAll, describe, it } from "vitest";
 *   import { withEmulator } from "../helpers/emulator.js";
 *
 *   const emu = await withEmulator();
 *   if ("skip" in emu) console.warn(emu.skip);
 *
 *   describe.skipIf("skip" in emu)("my Pub/Sub feature", () => {
 *     const { host, projectId } = emu as Exclude<typeof emu, { skip: string }>;
 *     afterAll(async () => {
 *       if (!("skip" in emu)) await emu.stop();
 *     });
 *     it("does something", async () => {
 *       const target = { projectId, topic: "events", subscription: "events-sub", emulatorHost: host };
 *       // ...
 *     });
 *   });
 *
 * Set EMULATOR_LOG=1 to see the emulator's own output.
 */
import { randomBytes } from "node:crypto";
import { EMULATOR_INSTALL_HINT, findEmulator, startEmulator } from "../../sources/dev/pubsub-emulator.js";

export type EmulatorForTests = { host: string; projectId: string; stop(): Promise<void> };

export async function withEmulator(): Promise<EmulatorForTests | { skip: string }> {
  if (!findEmulator()) {
    const reason = `Pub/Sub emulator not installed: skipping the tests that need it. ${EMULATOR_INSTALL_HINT}`;
    if (process.env.CI === "true") {
      throw new Error(`CI=true and the Pub/Sub emulator is missing, so the emulator tests cannot run. ${EMULATOR_INSTALL_HINT}`);
    }
    return { skip: reason };
  }
  const projectId = `test-${randomBytes(4).toString("hex")}`;
  const log = process.env.EMULATOR_LOG ? (line: string) => console.log(`[emulator] ${line}`) : undefined;
  const h = await startEmulator({ projectId, port: 0, log, readyTimeoutMs: 60_000 });
  return { host: h.host, projectId: h.projectId, stop: () => h.stop() };
}
