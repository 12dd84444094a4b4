# One image for web, worker, beat and monitor (compose.yaml picks the command).
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
        libvirt-dev libvirt-clients pkg-config gcc npm qemu-utils osinfo-db \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt package.json package-lock.json ./
RUN pip install --no-cache-dir -r requirements.txt && npm ci --no-audit --no-fund
COPY . .
RUN mkdir -p static/vendor/htmx static/vendor/bootstrap \
    && cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx-ext-ws/dist/ws.js static/vendor/htmx/ \
    && cp node_modules/bootstrap/dist/css/bootstrap.min.css static/vendor/bootstrap/ \
    && KVMWEB_SECRET_KEY=build python manage.py collectstatic --noinput -v0
