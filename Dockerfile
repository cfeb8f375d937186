# syntax=docker/dockerfile:1
# The production image: exactly the locked runtime dependencies (hash-checked, no development
# tools, no embedded PostgreSQL), the app once (in /srv/app, importable from any directory),
# bytecode compiled at build time, a non-root user, exec-form start so signals reach the server.
# Migrations are their own step (see README, "Deploying several replicas"): the default command
# only serves. Build: docker build -t lpl-portal .
# The base is pinned by digest; change both stages together when updating it.
ARG PYTHON_IMAGE=python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Dependencies first, in their own layer: a change to the code does not reinstall them.
COPY requirements-runtime.lock /tmp/requirements-runtime.lock
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements-runtime.lock \
 && /opt/venv/bin/pip uninstall -y pip setuptools
COPY app /srv/app/app
COPY migrations /srv/app/migrations
COPY alembic.ini /srv/app/alembic.ini
RUN /opt/venv/bin/python -m compileall -q /srv/app /opt/venv

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/srv/app PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    APP_ENV=production PORT=8000 WORKERS=2
# No installers or build tools at run time: the base image's own pip, setuptools and wheel go too.
RUN python -m pip uninstall -y -q pip setuptools wheel \
 && useradd --system --uid 10001 --no-create-home appuser
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /srv/app /srv/app
WORKDIR /srv/app
USER appuser
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2)"]
# DATABASE_URL and SECRET_KEY must be provided; production refuses to start without them.
# Run `python -m app migrate` as a separate step (a job or an init container) before serving.
ENTRYPOINT ["python", "-m", "app"]
CMD ["serve", "--host", "0.0.0.0"]
