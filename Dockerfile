# syntax=docker/dockerfile:1
#
# Veille container image: `veille db upgrade` then `veille run` in HTTP mode on port 3000
# (Socket Mode when SLACK_APP_TOKEN is set). Build: `docker build -t veille .`
#
# References:
#   - Docker docs, "Building best practices":
#     https://docs.docker.com/build/building/best-practices/
#   - Docker docs, "Optimize cache usage in builds" (copy dependency manifests before source):
#     https://docs.docker.com/build/cache/optimize/
#   - Dockerfile reference (HEALTHCHECK, USER, CMD exec form):
#     https://docs.docker.com/reference/dockerfile/
# Linted with hadolint (tests/test_deploy_files.py), since no Docker engine runs in CI.

# Pinned Debian release so a rebuild does not silently move to a new distribution.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Unprivileged runtime user with a fixed uid/gid, so bind-mounted volumes can be chowned predictably
# ("USER" in the best-practices guide). /data holds the SQLite database when no PostgreSQL is used.
RUN groupadd --system --gid 10001 veille \
    && useradd --system --uid 10001 --gid veille --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin veille \
    && mkdir -p /data \
    && chown veille:veille /data

WORKDIR /app

# Dependency layer, cached until pyproject.toml changes ("Leverage build cache" in the best practices).
# setuptools cannot build the `veille` distribution without its packages, which are copied later,
# so here we only read [project].dependencies with the stdlib tomllib and install those; the
# project itself is installed below with --no-deps. README.md is copied now because pyproject
# declares it as the readme and the build below needs it.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Application source (tests, .git, .venv, local databases and .env are excluded by .dockerignore).
# migrations/ is a package shipped with its versions, used by `veille db upgrade`.
COPY bot ./bot
COPY handlers ./handlers
COPY monitors ./monitors
COPY rules ./rules
COPY migrations ./migrations
COPY bench ./bench
RUN pip install --no-cache-dir --no-deps . \
    && rm -rf build ./*.egg-info

# Defaults; docker-compose.yml overrides DATABASE_URL with PostgreSQL. Mount the workspace
# config at /app/veille.yaml (read-only) or point VEILLE_CONFIG elsewhere.
ENV DATABASE_URL=sqlite:////data/veille.db \
    VEILLE_CONFIG=/app/veille.yaml

VOLUME ["/data"]

# Numeric uid:gid (the veille user above) so Kubernetes runAsNonRoot can verify it (hadolint DL3066).
USER 10001:10001

EXPOSE 3000

# python:slim has no curl: use urllib. urlopen raises on connection errors and non-2xx statuses,
# so the exit code is non-zero unless /healthz answers 200 (database reachable).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"]

# Exec-form CMD; `exec` makes `veille run` PID 1 so it receives SIGTERM from `docker stop`.
# Override it for one-off commands, e.g. `docker run --rm veille veille check-config`.
CMD ["sh", "-c", "veille db upgrade && exec veille run --port 3000"]
