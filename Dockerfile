# Image for the web, worker and beat services of docker-compose.yml.
FROM python:3.12-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client bzip2 \
    && rm -rf /var/lib/apt/lists/*
# The processes run as this unprivileged user (uid/gid 10001), never as root. It owns only its home and beat's schedule
# folder (a named volume, which takes the folder's owner); the code and static files stay root's, read-only to it.
RUN groupadd --system --gid 10001 evesite \
    && useradd --system --uid 10001 --gid evesite --home-dir /home/evesite --create-home \
       --shell /usr/sbin/nologin evesite \
    && install -d -o evesite -g evesite /var/lib/evesite-beat
WORKDIR /app
# Every package, transitive ones too, pinned with its sha256 (`make lock` writes the file): pip refuses any other.
COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput -v0
USER 10001:10001
# Where gunicorn puts its control socket (~/.gunicorn/).
ENV HOME=/home/evesite
EXPOSE 7777
# 0.0.0.0 inside the container so Docker's port forwarding reaches gunicorn; docker-compose.yml publishes
# the port on the host's 127.0.0.1 only (put a TLS proxy in front to serve it further).
CMD ["gunicorn", "evesite.wsgi", "--bind", "0.0.0.0:7777", "--workers", "2", "--worker-class", "evesite.gunicorn_worker.HealthLaneWorker", "--threads", "4"]
