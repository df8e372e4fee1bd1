"""Flex Template entry point: turns the template parameters into an `ecom deploy` call.

The Python template launcher runs this file with the launch parameters as
`--name=value` arguments (the ones in metadata.json plus Dataflow's own, such
as --project, --region, --temp_location, --staging_location,
--sdk_container_image, --service_account_email, --job_name). It builds the
same command a deployer runs by hand, so there is one submission path.
"""
import os
import subprocess
import sys

# template/Dataflow parameter -> ecom deploy flag
FLAGS = {
    "project": "--project-id",
    "region": "--region",
    "job_name": "--job-name",
    "subscription": "--subscription",
    "bronzeBucket": "--bronze-bucket",
    "stagingBucket": "--staging-bucket",
    "keysUri": "--keys-uri",
    "temp_location": "--temp-location",
    "staging_location": "--staging-location",
    "sdk_container_image": "--sdk-container-image",
    "service_account_email": "--service-account",
    "machineType": "--machine-type",
    "numWorkers": "--num-workers",
    "maxNumWorkers": "--max-num-workers",
    "subnetwork": "--subnetwork",
    "bigqueryLocation": "--bigquery-location",
    "windowSeconds": "--window-seconds",
    "commitShards": "--commit-shards",
}


def main(argv):
    cmd = ["node", "/app/dist/cli/main.js", "deploy"]
    for arg in argv:
        if not arg.startswith("--") or "=" not in arg:
            continue
        name, value = arg[2:].split("=", 1)
        if name in FLAGS and value != "":
            cmd += [FLAGS[name], value]
        elif name == "update" and value.lower() == "true":
            cmd.append("--update")
    print("launching:", " ".join(cmd), flush=True)
    return subprocess.call(cmd, env=os.environ)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
