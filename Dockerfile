# Duikou: one image for web (gunicorn), Celery worker and Celery beat.
# Build: docker build -t duikou .        Run: see docker-compose.yml.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    GUNICORN_WORKERS=3

# The process runs as this unprivileged user; the code and the static files stay owned by root (read-only).
# Its home holds gunicorn's control socket (~/.gunicorn/gunicorn.ctl, for gunicornc).
RUN groupadd --system --gid 10001 duikou \
    && useradd --system --uid 10001 --gid duikou --create-home --home-dir /home/duikou \
        --shell /usr/sbin/nologin duikou

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. Every wheel is pinned by hash;
# no compiler and no GNU gettext are needed (translations are compiled with polib).
COPY requirements/base.txt requirements/base.txt
RUN python -m venv "$VIRTUAL_ENV" \
    && pip install --require-hashes --no-cache-dir -r requirements/base.txt

COPY . .

# Translations and static files are built into the image. Production settings refuse to load without
# these three variables (a key of 50 characters or more), so throwaway values are given to this RUN only: they are
# not kept in the image.
RUN export DJANGO_SETTINGS_MODULE=config.settings.production \
        DJANGO_SECRET_KEY=build-time-only-not-a-secret-long-enough-for-the-production-check \
        DJANGO_ALLOWED_HOSTS=localhost \
        DATABASE_URL=postgres://build@localhost:5432/build \
    && python manage.py compile_translations \
    && python manage.py collectstatic --no-input -v 0 \
    && mkdir -p var/media \
    && chown duikou:duikou var/media

# The image is the production build: manage.py and celery inside it use the production settings too.
ENV DJANGO_SETTINGS_MODULE=config.settings.production

USER duikou:duikou

EXPOSE 8000

CMD ["sh", "-c", "exec gunicorn config.wsgi:application --bind 0.0.0.0:8000 --workers ${GUNICORN_WORKERS:-3} --timeout 60 --access-logfile - --error-logfile -"]
