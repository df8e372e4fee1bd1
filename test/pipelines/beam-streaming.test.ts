/**
 * The streaming pipeline for Dataflow, built here without submitting it:
 * the graph walks the shared step list, every transform is named, options
 * validate and bad ones say what is wrong. The real cross-language Pub/Sub
 * read is expanded against a local gRPC server that speaks Beam's expansion
 * protocol (the Java expansion service cannot be downloaded here), so the
 * test also sees what the read asks Dataflow for: the subscription and
 * idAttribute=event_id.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { beam } from "../../pipelines/beam/sdk.js";
import { ExpansionRequest, ExpansionResponse } from "apache-beam/proto/beam_expansion_api";
import { IsBounded_Enum } from "apache-beam/proto/beam_runner_api";
import { workerSteps } from "../../pipelines/beam/step-fns.js";
import { buildGraph, dataflowPipelineOptions, transformNames, useWorkerImage } from "../../pipelines/beam/submit.js";
import { type MessageSource, cloudSinkInit, pubsubSource, streamingIngestPipeline } from "../../pipelines/beam/streaming.js";
import { OptionsError, parseDataflowJobOptions, parseStreamingOptions } from "../../pipelines/beam/streaming-options.js";

const GOOD = {
  project: "ecom-prod",
  region: "europe-west1",
  jobName: "ecom-ingest",
  subscription: "projects/ecom-prod/subscriptions/events-ingest",
  bronzeBucket: "ecom-prod-bronze",
  stagingBucket: "ecom-prod-staging",
  keysUri: "gs://ecom-prod-keys/ingest",
};

const JOB = {
  tempLocation: "gs://ecom-prod-dataflow/temp",
  stagingLocation: "gs://ecom-prod-dataflow/staging",
  sdkContainerImage: "europe-west1-docker.pkg.dev/ecom-prod/ecom/worker:1.0.0",
  serviceAccountEmail: "ingest@ecom-prod.iam.gserviceaccount.com",
};

const TOP_LEVEL = [
  "ReadPubSubSubscription",
  "ToRawMessage",
  ...workerSteps().map((s) => s.name),
  "CollectDeadLetters",
  "CommitToBronzeAndSilver",
  "WriteFailedRecords",
];

/** A stand-in for the Pub/Sub read (bounded, one message), for graph checks that need no expansion service. */
const standIn: MessageSource = {
  read: async (root) => root.apply(beam.withName("ReadPubSubSubscription", beam.create([{ data: new Uint8Array([123, 125]), attributes: {} }], false))),
};

describe("streaming pipeline options", () => {
  it("accepts a complete set and fills the defaults", () => {
    const o = parseStreamingOptions(GOOD);
    expect(o).toMatchObject({ bronzePrefix: "bronze", windowSeconds: 60, commitShards: 48, silverDataset: "silver", bigqueryLocation: "EU" });
    const j = parseDataflowJobOptions(JOB);
    expect(dataflowPipelineOptions(o, j)).toMatchObject({
      project: "ecom-prod",
      region: "europe-west1",
      streaming: true,
      enableStreamingEngine: true,
      autoscalingAlgorithm: "THROUGHPUT_BASED",
      sdkContainerImage: JOB.sdkContainerImage,
    });
  });

  it("hands the KMS key and the DLP inspector to every commit worker; the bundle's kek.json and the built-in rules by default", () => {
    const local = cloudSinkInit(parseStreamingOptions(GOOD));
    expect(local.kek).toBeUndefined();
    expect(local.textInspector).toBeUndefined();
    const kmsKey = "projects/ecom-prod/locations/europe-west1/keyRings/ecom/cryptoKeys/subject-keks";
    const prod = cloudSinkInit(parseStreamingOptions({ ...GOOD, kmsKey, textInspector: "dlp", dlpLocation: "europe-west1" }));
    expect(prod.kek).toEqual({ kind: "kms", keyName: kmsKey });
    expect(prod.textInspector).toEqual({ kind: "dlp", project: "ecom-prod", location: "europe-west1" });
    expect(() => parseStreamingOptions({ ...GOOD, kmsKey: "subject-keks" })).toThrow(/kmsKey: must be a Cloud KMS key name/);
    expect(() => parseStreamingOptions({ ...GOOD, textInspector: "regex" })).toThrow(/textInspector: must be one of: builtin, dlp/);
  });

  it("names every bad option and says what it must be", () => {
    const err = (() => {
      try {
        parseStreamingOptions({
          ...GOOD,
          subscription: "events-ingest",
          bronzeBucket: "gs://ecom-prod-bronze",
          windowSeconds: 1,
          keysUri: undefined,
          colour: "red",
        });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(OptionsError);
    expect(err!.message).toContain("subscription: must be a full subscription path: projects/<project>/subscriptions/<name>");
    expect(err!.message).toContain("bronzeBucket: must be a bucket name without gs://");
    expect(err!.message).toContain("windowSeconds: must be at least 10 s");
    expect(err!.message).toContain("keysUri: required");
    expect(err!.message).toContain("colour: not an option of the streaming pipeline");
  });

  it("refuses a topic, and explains why a subscription is needed", () => {
    expect(() => parseStreamingOptions({ ...GOOD, topic: "projects/ecom-prod/topics/events" })).toThrow(/read from a subscription, not a topic/);
  });

  it("checks the Dataflow job options", () => {
    expect(() => parseDataflowJobOptions({ ...JOB, numWorkers: 10, maxNumWorkers: 4 })).toThrow(/maxNumWorkers: maxNumWorkers must be >= numWorkers/);
    expect(() => parseDataflowJobOptions({ ...JOB, sdkContainerImage: "worker" })).toThrow(/sdkContainerImage: must be an image reference/);
  });
});

describe("streaming pipeline graph (built, not submitted)", () => {
  it("walks the step list of pipelines/ingest-steps.ts and names every transform", async () => {
    const names = transformNames(await buildGraph(streamingIngestPipeline(parseStreamingOptions(GOOD), standIn)));
    expect(names.filter((n) => !n.includes("/"))).toEqual(TOP_LEVEL);
    for (const step of workerSteps()) {
      expect(names).toContain(`${step.name}/map(runElementStep)`);
      expect(names).toContain(`${step.name}/Split(ok,dead)`);
    }
    for (const sink of ["CommitToBronzeAndSilver", "WriteFailedRecords"]) {
      for (const child of ["WindowIntoCommitWindows", "KeyByCommitShard", "GroupIntoCommitBatches", "CommitBatch"]) {
        expect(names).toContain(`${sink}/${child}`);
      }
    }
    expect(names.some((n) => /anonymous|^map\(|^flatMap\(|^\s*$/.test(n))).toBe(false);
  });

  it("runs on the worker image, so submission stages no npm packages", async () => {
    const proto = useWorkerImage(await buildGraph(streamingIngestPipeline(parseStreamingOptions(GOOD), standIn)), JOB.sdkContainerImage);
    const envs = Object.values(proto.components!.environments);
    expect(envs.length).toBeGreaterThan(0);
    for (const env of envs) {
      expect(env.urn).toBe("beam:env:docker:v1");
      expect(Buffer.from(env.payload).includes(Buffer.from(JOB.sdkContainerImage))).toBe(true);
    }
  });

  describe("with the real cross-language Pub/Sub read", () => {
    let server: grpc.Server;
    const requests: ExpansionRequest[] = [];
    let previous: string | undefined;

    beforeAll(async () => {
      server = new grpc.Server();
      server.addService(
        {
          expand: {
            path: "/org.apache.beam.model.expansion.v1.ExpansionService/Expand",
            requestStream: false,
            responseStream: false,
            requestSerialize: (m: ExpansionRequest) => Buffer.from(ExpansionRequest.toBinary(m)),
            requestDeserialize: (b: Buffer) => ExpansionRequest.fromBinary(b),
            responseSerialize: (m: ExpansionResponse) => Buffer.from(ExpansionResponse.toBinary(m)),
            responseDeserialize: (b: Buffer) => ExpansionResponse.fromBinary(b),
          },
        },
        {
          expand: (call: grpc.ServerUnaryCall<ExpansionRequest, ExpansionResponse>, done: grpc.sendUnaryData<ExpansionResponse>) => {
            const req = call.request;
            requests.push(req);
            const ns = req.namespace;
            const ws = Object.keys(req.components!.windowingStrategies)[0]!;
            done(
              null,
              ExpansionResponse.create({
                components: {
                  pcollections: {
                    [`${ns}out`]: { uniqueName: `${ns}out`, coderId: `${ns}bytes`, isBounded: IsBounded_Enum.UNBOUNDED, windowingStrategyId: ws },
                  },
                  coders: { [`${ns}bytes`]: { spec: { urn: "beam:coder:bytes:v1", payload: new Uint8Array() }, componentCoderIds: [] } },
                },
                transform: { uniqueName: req.transform!.uniqueName, spec: req.transform!.spec, inputs: {}, outputs: { out: `${ns}out` }, subtransforms: [] },
              }),
            );
          },
        },
      );
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
      );
      previous = process.env.BEAM_SERVICE_OVERRIDES;
      process.env.BEAM_SERVICE_OVERRIDES = JSON.stringify({ "sdks:java:io:google-cloud-platform:expansion-service:shadowJar": `127.0.0.1:${port}` });
    });

    afterAll(() => {
      if (previous === undefined) delete process.env.BEAM_SERVICE_OVERRIDES;
      else process.env.BEAM_SERVICE_OVERRIDES = previous;
      server?.forceShutdown();
    });

    it("asks the expansion service for a subscription read deduplicating on event_id, and builds", async () => {
      const options = parseStreamingOptions(GOOD);
      const proto = await buildGraph(streamingIngestPipeline(options, pubsubSource(options.subscription)));
      expect(requests).toHaveLength(1);
      const spec = requests[0]!.transform!.spec!;
      expect(spec.urn).toBe("beam:transform:org.apache.beam:pubsub_read:v1");
      const payload = Buffer.from(spec.payload);
      expect(payload.includes(Buffer.from(options.subscription))).toBe(true);
      expect(payload.includes(Buffer.from("id_attribute"))).toBe(true);
      expect(payload.includes(Buffer.from("event_id"))).toBe(true);
      // The SDK sends this flag un-snake-cased (io/pubsub.ts adds it after camelToSnakeOptions).
      expect(payload.includes(Buffer.from("needsAttributes"))).toBe(true);

      const names = transformNames(proto);
      expect(names.filter((n) => !n.includes("/"))).toEqual(TOP_LEVEL);
      const unbounded = Object.values(proto.components!.pcollections).filter((p) => p.isBounded === IsBounded_Enum.UNBOUNDED);
      expect(unbounded.length).toBeGreaterThan(0);
    });
  });
});
