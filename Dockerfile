# syntax=docker/dockerfile:1
# best_app's two images, built by docker compose:
#   target "nginx": the front, with the nginx template, error pages and static/
#   target "app" (the last stage, so also what a plain `docker build .` gives):
#                   waitress serving best_app, as a non-root user

FROM nginx:1.27-alpine AS nginx
# The image's entrypoint renders templates/*.template with envsubst into
# NGINX_ENVSUBST_OUTPUT_DIR (docker-compose.yml sets it to /etc/nginx).
COPY nginx/nginx.conf.template /etc/nginx/templates/nginx.conf.template
COPY nginx/errors/ /srv/best_app/nginx/errors/
COPY nginx/public/ /srv/best_app/nginx/public/
COPY static/ /srv/best_app/static/
# Compressed once here, served by gzip_static; scripts/stack.py does the same
# for the loopback stack (PRECOMPRESSED in scripts/stack_nginx.py lists the same suffixes).
RUN find /srv/best_app/static -type f \( -name '*.css' -o -name '*.js' -o -name '*.map' -o -name '*.svg' \
        -o -name '*.json' -o -name '*.txt' -o -name '*.html' \) \
        -exec sh -c 'for f in "$@"; do gzip -9 -c "$f" > "$f.gz"; done' sh {} +

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
# Only the requirements first: this layer is rebuilt when they change, not
# on every code change. Every dependency ships a wheel, so no compiler is
# needed here either.
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

FROM python:3.11-slim AS app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FLASK_APP=best_app \
    PORT=8000
RUN groupadd --system --gid 10001 best_app \
    && useradd --system --uid 10001 --gid best_app --home-dir /app --shell /usr/sbin/nologin best_app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Code owned by root and read-only to the app user: a compromised process
# cannot rewrite it. Only the instance folder (embedded SQLite) is writable.
COPY config.py service_entrypoint.sh ./
COPY best_app/ best_app/
COPY migrations/ migrations/
COPY templates/ templates/
COPY static/ static/
RUN mkdir instance && chown best_app:best_app instance
# Numeric, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001
EXPOSE 8000
# Python's urllib rather than curl, which the slim image does not have.
# urlopen raises on anything but 2xx, so a 503 (database or cache down) fails.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/api/v1/health' % os.environ.get('PORT', '8000'), timeout=2)"]
ENTRYPOINT ["./service_entrypoint.sh"]
