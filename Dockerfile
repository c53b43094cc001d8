# storyreel in a container: the workflow, its core dependencies and the extras you ask for.
#
#   docker build -t storyreel .                                       # CPU, offline backends
#   docker build -t storyreel:gpu --build-arg EXTRAS=llm,whisper,diffusers .
#   docker run --rm -v "$PWD/work:/work" storyreel --cores all         # runs the workflow in /work
#
# /work needs config/config.yaml and config/stories.yaml (copy them from /opt/storyreel/config);
# results/, logs/ and benchmarks/ appear there. The same image is the job image of
# profiles/kubernetes. Only Debian and PyPI are needed to build it. Built and run (core install)
# in this project; docs/cluster.md, "Containers", says how.
FROM debian:bookworm-slim

ARG EXTRAS=""
ENV DEBIAN_FRONTEND=noninteractive \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PATH=/opt/storyreel/venv/bin:$PATH

# pip trusts the system's CA store (PIP_CERT): a site's proxy CA added to the base image works.
# Python 3.11 (as on the CI machine) and a font for burned subtitles; FFmpeg, espeak-ng data and
# the speech models come inside the Python wheels.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv fonts-dejavu-core \
      ca-certificates libgomp1 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/storyreel
# dependencies first (a layer that survives edits of the workflow's own files)
COPY pyproject.toml README.md LICENSE ./
COPY storyreel/__init__.py storyreel/__init__.py
RUN python3 -m venv venv \
 && venv/bin/pip install --quiet --upgrade pip \
 && venv/bin/pip install --quiet -e ".${EXTRAS:+[$EXTRAS]}"
# then the workflow: Snakefile, rules, stage adapters, schemas, profiles, the package
COPY . .
RUN venv/bin/pip install --quiet --no-deps -e . && venv/bin/storyreel backends >/dev/null

WORKDIR /work
ENTRYPOINT ["snakemake", "-s", "/opt/storyreel/Snakefile"]
CMD ["--cores", "all"]
