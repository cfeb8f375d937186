# Multi-stage build: dependencies are installed in a builder, the runtime image runs as a
# non-root user, applies migrations, then serves. (Not built on the development machines,
# which have no Docker engine; kept deliberately plain.)
FROM python:3.11-slim AS builder
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml ./
COPY app ./app
RUN python -m venv /opt/venv && /opt/venv/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    APP_ENV=production PORT=8000
RUN useradd --system --uid 10001 --home-dir /srv/app appuser
WORKDIR /srv/app
COPY --from=builder /opt/venv /opt/venv
COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
USER appuser
EXPOSE 8000
# DATABASE_URL and SECRET_KEY must be provided; production refuses to start without them.
CMD ["sh", "-c", "python -m app migrate && exec python -m app serve --host 0.0.0.0 --port ${PORT} --workers ${WORKERS:-2}"]
