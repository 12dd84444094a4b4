"""Where Celery work goes: each host's work on its own queue, so a worker can later run on the
host itself; work about no host on "default"."""

DEFAULT = "default"


def host_queue(host_id):
    return f"host.{host_id}" if host_id is not None else DEFAULT
