/**
 * The bounded sources of the Beam batch pipeline, registered for Beam's
 * serialization: the pipeline creates a small seed (the list of files:
 * `beam.create` of a large array is quadratic) and reads each file inside a
 * `flatMap`, lazily, with the same readers the local runner uses
 * (sources/ndjson.ts, sources/bronze.ts), so both executors see the same
 * messages with the same origins.
 */
import { readBronzeFile } from "../../sources/bronze.js";
import { readNdjsonFile } from "../../sources/ndjson.js";
import { requireForSerialization } from "./sdk.js";

export const FILE_SOURCE_MODULE = "ecom-stream/dist/pipelines/beam/file-source.js";

export { readBronzeFile, readNdjsonFile };

requireForSerialization(FILE_SOURCE_MODULE, { readNdjsonFile, readBronzeFile });
