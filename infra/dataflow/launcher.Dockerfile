# The Flex Template launcher image: it builds the pipeline graph and submits
# it, exactly as `ecom deploy` does on a deployer's machine.
#
#   Python apache-beam[gcp]  the Dataflow job service the TypeScript SDK submits through
#   Java 17                  the Beam GCP expansion service (the Pub/Sub read is a Java transform)
#   Node 20.19+ + ecom-stream the pipeline itself
#
# Build from the repository root:
#   docker build -f infra/dataflow/launcher.Dockerfile -t $REGION-docker.pkg.dev/$PROJECT/ecom/launcher:$VERSION .
FROM gcr.io/dataflow-templates-base/python311-template-launcher-base:latest

ARG BEAM_VERSION=2.49.0
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless curl ca-certificates gnupg \
 && curl -fsSL https://deb.nodesource.com/setup_20.x | bash - \
 && apt-get install -y --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir "apache-beam[gcp]==${BEAM_VERSION}"

# The expansion service jar, fetched at build time so a launch never waits on Maven.
RUN mkdir -p /opt/beam \
 && curl -fsSL -o /opt/beam/beam-sdks-java-io-google-cloud-platform-expansion-service-${BEAM_VERSION}.jar \
    https://repo.maven.apache.org/maven2/org/apache/beam/beam-sdks-java-io-google-cloud-platform-expansion-service/${BEAM_VERSION}/beam-sdks-java-io-google-cloud-platform-expansion-service-${BEAM_VERSION}.jar
ENV ECOM_DATAFLOW_EXPANSION_SERVICE=/opt/beam/beam-sdks-java-io-google-cloud-platform-expansion-service-${BEAM_VERSION}.jar

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts
COPY dist ./dist
COPY infra/dataflow/launcher/main.py /template/main.py
ENV FLEX_TEMPLATE_PYTHON_PY_FILE=/template/main.py
