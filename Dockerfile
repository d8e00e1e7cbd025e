# syntax=docker/dockerfile:1
# Build a wheel with the pinned dependencies, then install it into a slim runtime image.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
COPY adapters ./adapters
RUN pip wheel --no-cache-dir --wheel-dir /wheels -c constraints.txt .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SEEDBOT_DATABASE=/data/seedbot.db
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links=/wheels seedbot && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /data seedbot \
    && mkdir -p /data && chown seedbot /data
USER seedbot
WORKDIR /data
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import sqlite3,os; sqlite3.connect(os.environ['SEEDBOT_DATABASE']).execute('select 1')"]
ENTRYPOINT ["seedbot"]
CMD ["run"]
