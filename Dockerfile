# syntax=docker/dockerfile:1
# seedbot: build the wheel with the pinned dependencies, install it into a slim runtime image
# that runs as a non-root user with its SQLite file on the /data volume.
#
#   docker build -t seedbot .
#   docker run --env-file .env -v seedbot-data:/data -p 8080:8080 seedbot
#   docker run --env-file .env -v seedbot-data:/data seedbot doctor

# --- build: wheels for seedbot and every pinned dependency -----------------------------------
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
COPY adapters ./adapters
RUN pip wheel --no-cache-dir --wheel-dir /wheels -c constraints.txt .

# --- runtime -----------------------------------------------------------------------------------
FROM python:3.11-slim AS runtime
# MALLOC_ARENA_MAX: glibc keeps freed arenas after bursts of multi-MB images (BENCHMARKS.md).
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SEEDBOT_DATABASE=/data/seedbot.db \
    SEEDBOT_HTTP_PORT=8080 \
    MALLOC_ARENA_MAX=2
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links=/wheels seedbot && rm -rf /wheels \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin seedbot \
    && mkdir -p /data && chown seedbot:seedbot /data
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
