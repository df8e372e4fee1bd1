/**
 * The one place a local runtime is built: an Engine on a data dir with the
 * extensions a job asks for (Gold now). Every command and job that opens a
 * data dir for writing comes through here, so what joins each batch is
 * decided in one spot, never inside the engine.
 */
import { type GoldOptions, registerGold } from "../gold/register.js";
import { Engine, type EngineOptions } from "../pipelines/local/engine.js";

export interface RuntimeOptions extends EngineOptions {
  /** Gold's refresh settings; false: no Gold (its marks are caught up at the next runtime that has it). */
  gold?: GoldOptions | false;
}

export async function openRuntime(dataDir: string, opts: RuntimeOptions = {}): Promise<Engine> {
  const engine = await Engine.open(dataDir, opts);
  try {
    if (opts.gold !== false) await registerGold(engine, opts.gold ?? {});
    engine.store.protectFiles(); // Gold's install and catch-up may have started a WAL
    return engine;
  } catch (err) {
    engine.close();
    throw err;
  }
}
