# The Dataflow worker image: Beam's TypeScript SDK harness with ecom-stream
# preinstalled, so workers start without fetching anything from npm.
#
# Build from the repository root:
#   docker build -f infra/dataflow/worker.Dockerfile -t $REGION-docker.pkg.dev/$PROJECT/ecom/worker:$VERSION .
#
# The base image holds the harness's boot program (/opt/apache/beam/boot),
# which Dataflow starts with the Fn API endpoints; boot runs
# `npx apache-beam-worker` in /app once per vCPU (sibling workers), which
# requires the modules the pipeline registered (ecom-stream/dist/...).
# Submission stages no code (pipelines/beam/submit.ts useWorkerImage): this
# image is the code, so tag it per release and deploy by tag.
FROM docker.io/apache/beam_typescript_sdk:2.49.0 AS harness

FROM node:20.19-bookworm-slim
# require(esm) of the registered modules (dist/pipelines/beam/*.js are ESM)
# needs Node >= 20.19; the SDK image's own node is older.
COPY --from=harness /opt/apache/beam /opt/apache/beam
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts
COPY dist ./node_modules/ecom-stream/dist
COPY package.json ./node_modules/ecom-stream/package.json
# The commit worker threads load these by URL relative to their module.
RUN node -e "require.resolve('ecom-stream/dist/pipelines/beam/step-fns.js')"
ENTRYPOINT ["/opt/apache/beam/boot"]
