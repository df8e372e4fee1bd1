/**
 * The one way into the apache-beam package. Its CommonJS modules must load
 * index first: loading a submodule such as `apache-beam/serialization` first
 * hits a require cycle in the SDK ("Class extends value undefined"). ESM
 * evaluates these re-exports in order, so the index comes first.
 */
import * as beam from "apache-beam";

export { beam };
export { directRunner } from "apache-beam/runners/direct_runner";
export { requireForSerialization } from "apache-beam/serialization";
export { Runner, PipelineResult } from "apache-beam/runners/runner";
export { dataflowRunner } from "apache-beam/runners/dataflow";
export { TYPESCRIPT_DEFAULT_ENVIRONMENT_URN, asDockerEnvironment } from "apache-beam/internal/environments";
