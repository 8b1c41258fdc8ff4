# syntax=docker/dockerfile:1
# One image for every process of docker-compose.yml: web (gunicorn), the Celery worker and
# beat, and the one-shot migrate job. Build: docker compose build (or docker build -t socialsec .).

# --- Front-end libraries -------------------------------------------------------------------
# `npm run vendor` copies the files the templates use from node_modules/ into static/vendor/;
# only that directory reaches the final image, so Node does not ship.
FROM node:22-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/ scripts/
RUN npm ci --no-audit --no-fund --loglevel=error && npm run --silent vendor

# --- The application ---------------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=socialsec.settings.production \
    SOCIALSEC_VAR_DIR=/app/var

# msgfmt (gettext) compiles the translation catalogs during the build.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 socialsec \
    && useradd --system --uid 10001 --gid socialsec --no-create-home --home-dir /app \
       --shell /usr/sbin/nologin socialsec

WORKDIR /app

# The pinned dependencies first: a code change then reuses this layer.
COPY requirements.lock ./
RUN pip install --requirement requirements.lock

COPY . .
COPY --from=assets /src/static/vendor/ static/vendor/

# Catalogs and static files are built into the image, so every container serves the same files
# (production settings use whitenoise's manifest storage, which needs the manifest at start).
# Production settings refuse to load without these variables; the values are placeholders used
# only by this step, which reaches neither the database nor Redis.
# var/ holds generated files (bank files, exports); compose mounts a volume over it.
RUN find /app -path '*/LC_MESSAGES/*.po' -exec sh -c \
       'for po; do msgfmt --check-format -o "${po%.po}.mo" "$po" || exit 1; done' _ {} + \
    && SECRET_KEY=build-time-placeholder-never-used-to-serve-0123456789abcdefghijklmnopqrstuvwxyz \
       ALLOWED_HOSTS=build.invalid \
       DATABASE_URL=postgresql://build@build.invalid:5432/build \
       REDIS_URL=redis://build.invalid:6379/0 \
       python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/var/media \
    && chown -R socialsec:socialsec /app/var

USER socialsec
EXPOSE 8000

# docker-compose.yml sets each service's command; this default serves the web application.
# gunicorn reads its worker count from WEB_CONCURRENCY (deploy/env.example).
CMD ["gunicorn", "socialsec.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
