/**
 * The official BigQuery client pointed at the fake BigQuery, with Application
 * Default Credentials resolved by the fake's metadata server (no key file, no
 * gcloud config, nothing sent to Google). `restore()` puts the environment
 * back and stops the server.
 */
import { BigQuery } from "@google-cloud/bigquery";
import { type FakeBigQuery, startFakeBigQuery } from "./bigquery-server.js";
import { tempDir } from "./data.js";

export interface FakeBigQueryClient {
  fake: FakeBigQuery;
  bq: BigQuery;
  restore(): Promise<void>;
}

export async function fakeBigQueryClient(project: string): Promise<FakeBigQueryClient> {
  const saved = { ...process.env };
  const fake = await startFakeBigQuery();
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  delete process.env.BIGQUERY_EMULATOR_HOST;
  process.env.CLOUDSDK_CONFIG = tempDir("no-gcloud");
  process.env.GCE_METADATA_HOST = fake.endpoint.replace("http://", "");
  process.env.GCE_METADATA_IP = fake.endpoint.replace("http://", "");
  return {
    fake,
    bq: new BigQuery({ projectId: project, apiEndpoint: fake.endpoint }),
    restore: async () => {
      process.env = saved;
      await fake.close();
    },
  };
}
