# One image for web, worker, beat and monitor (compose.yaml picks the command), in two stages: the
# first compiles libvirt-python and fetches the front-end packages from npm; the image itself holds
# only what runs — Python with requirements.txt (no test tools), libvirt's client library, the
# osinfo database, an SSH client for qemu+ssh:// hosts — and runs as an unprivileged user.
FROM python:3.11-slim-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libvirt-dev pkg-config gcc npm \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt
WORKDIR /src
COPY package.json package-lock.json scripts/vendor ./
RUN npm ci --no-audit --no-fund && sh vendor vendor

FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends libvirt0 osinfo-db openssh-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --create-home --home-dir /home/kvmweb kvmweb
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY manage.py ./
COPY kvmweb kvmweb
COPY apps apps
COPY templates templates
COPY static static
COPY --from=build /src/vendor static/vendor
RUN KVMWEB_SECRET_KEY=build python manage.py collectstatic --noinput -v0
# uid 10001: compose.yaml adds the hypervisor's libvirt group so it can open libvirt's socket.
USER kvmweb
