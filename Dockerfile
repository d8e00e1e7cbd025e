# syntax=docker/dockerfile:1
# seedbot: install the pinned, hash-checked dependencies and seedbot's own wheel into a virtualenv,
# then copy that into a slim runtime image without pip, running as a non-root user with its SQLite
# file on the /data volume.
#
#   docker build -t seedbot .
#   docker run --env-file .env -v seedbot-data:/data -p 8080:8080 seedbot
#   docker run --env-file .env -v seedbot-data:/data seedbot doctor

# Both stages: python:3.11-slim-bookworm, pinned by its digest as published on Docker Hub, so a
# rebuild gets the same base (the tag moves with every Python and Debian patch release). To move
# on: `docker buildx imagetools inspect python:3.11-slim-bookworm` and put the new digest in both
# FROM lines (tests/test_packaging.py checks they match).

# --- build: hash-checked dependencies and seedbot's wheel, in /opt/seedbot --------------------
FROM python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91 AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# requirements.lock and requirements-build.lock: every package pinned as in constraints.txt, with
# the sha256 of each published file; pip refuses anything else (--require-hashes).
COPY requirements.lock requirements-build.lock ./
RUN python -m venv /opt/seedbot \
    && /opt/seedbot/bin/pip install --require-hashes --no-deps --only-binary=:all: -r requirements.lock \
    && python -m pip install --require-hashes --no-deps --only-binary=:all: -r requirements-build.lock
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY bot ./bot
COPY adapters ./adapters
# seedbot itself is built here from this source (no hash to check), with the pinned build tools.
RUN python -m pip wheel --no-deps --no-build-isolation --wheel-dir /wheels . \
    && /opt/seedbot/bin/pip install --no-deps --no-index /wheels/seedbot-*.whl \
    && /opt/seedbot/bin/pip uninstall --yes pip setuptools wheel

# --- runtime -----------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91 AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="seedbot" \
      org.opencontainers.image.description="Seedream image generation (5.0 lite, 4.5) for Discord, Slack and a web playground" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim-bookworm"
# MALLOC_ARENA_MAX: glibc keeps freed arenas after bursts of multi-MB images (BENCHMARKS.md).
ENV PATH=/opt/seedbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SEEDBOT_DATABASE=/data/seedbot.db \
    SEEDBOT_HTTP_PORT=8080 \
    MALLOC_ARENA_MAX=2
# No pip in the image: nothing installs at run time, and a shell in the container can't either.
RUN python -m pip uninstall --yes pip setuptools wheel \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin seedbot \
    && mkdir -p /data && chown seedbot:seedbot /data
COPY --from=build /opt/seedbot /opt/seedbot
USER seedbot
WORKDIR /data
VOLUME ["/data"]
# /healthz and /metrics (SEEDBOT_HTTP_PORT); the Slack Events API listens on SLACK_PORT (3000).
EXPOSE 8080 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % (os.environ.get('SEEDBOT_HTTP_PORT') or '8080'), timeout=4)"]
# SIGTERM (docker stop) drains: no new jobs, running ones get SEEDBOT_SHUTDOWN_GRACE seconds.
STOPSIGNAL SIGTERM
ENTRYPOINT ["seedbot"]
CMD ["run"]
