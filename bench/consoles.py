"""How fast are the consoles through kvmweb's relay? Prints JSON.

    KVMWEB_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kvmweb_console_bench \\
        .venv/bin/python bench/consoles.py [--sessions 1 20] [--seconds 10] [--keys 40]

Needs root (libvirtd's QEMU driver on qemu:///system) and the tests' tiny guest
(`bash scripts/testboot`). The database is created and migrated; a superuser, the local host and
the guests' inventory rows are written there; then a real ASGI server (uvicorn, the Redis channel
layer of var/env) is started on a free port and driven over WebSockets as browsers would:

- serial: N guests (the serial console is one person's at a time), one socket each, all typing at
  once: the time from a key sent to its echo coming back through the relay;
- graphical: N sockets on one guest's VNC display, each asking for whole frames (raw encoding, the
  worst case for the relay: every pixel passes through) as fast as they come: frames and MB per
  second per session;
- the web server's CPU while each runs, per session (its own /proc times).

Each guest boots first under KVM or TCG, as the tests' guest does.
"""

import argparse
import asyncio
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import time

import pagebench  # noqa: F401 - sets up the path and settings module first

SPEED_LIMIT = 10_000  # sessions per user for the bench's one user
BOOT_TOGETHER = 4


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prepare(count):
    """The user's session cookie, the guests' VM pks, and a cleanup."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from apps.compute.services import vm_inventory_apply
    from apps.compute.virt import domains
    from apps.hosts.models import Host, HostState
    from apps.hosts.virt import connection
    from tests.consoles_guest import READY, define_console_domain, undefine, wait_for_serial
    from tests.helpers import QEMU_URI, unique

    conn = connection.get(QEMU_URI)
    user = get_user_model().objects.filter(username="bench-console").first()
    if user is None:
        user = get_user_model().objects.create_superuser("bench-console", password=None)
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    host, _ = Host.objects.get_or_create(name="bench-local", defaults={"uri": QEMU_URI, "state": HostState.UP})
    made = []
    try:
        for i in range(count):  # booted a few at a time: 20 TCG boots at once starve each other
            name = unique("bench-console")
            made.append((name, define_console_domain(conn, name)))
            if i % BOOT_TOGETHER == BOOT_TOGETHER - 1 or i == count - 1:
                for booting, _ in made[-BOOT_TOGETHER:]:
                    wait_for_serial(booting, READY, timeout=300)
    except BaseException:
        for _, dom_uuid in made:
            undefine(conn, dom_uuid)
        raise
    vms = [vm_inventory_apply(host=host, uuid=u, info=domains.domain_info(conn, u)).pk for _, u in made]
    return cookie, vms, lambda: [undefine(conn, u) for _, u in made]


async def serial_session(ws_url, cookie, keys):
    import websockets

    samples = []
    async with websockets.connect(ws_url, additional_headers={"Cookie": cookie, "Origin": "http://127.0.0.1"}) as ws:
        while json.loads(await ws.recv()).get("type") != "ready":
            pass
        for i in range(keys):
            key = "abcdefghijklmnopqrstuvwxyz"[i % 26]
            t0 = time.perf_counter()
            await ws.send(json.dumps({"type": "input", "data": key}))
            while True:
                message = await asyncio.wait_for(ws.recv(), timeout=10)
                if isinstance(message, bytes) and key.encode() in message:
                    samples.append((time.perf_counter() - t0) * 1000)
                    break
        await ws.send(json.dumps({"type": "input", "data": "\x15"}))  # ^U: drop the typed line
    return samples


async def read_exactly(ws, buffer, n):
    while len(buffer) < n:
        buffer.extend(await asyncio.wait_for(ws.recv(), timeout=60))
    data = bytes(buffer[:n])
    del buffer[:n]
    return data


async def vnc_session(ws_url, cookie, seconds):
    """Frames and bytes received while asking for whole raw frames for `seconds`."""
    import websockets

    headers = {"Cookie": cookie, "Origin": "http://127.0.0.1"}
    async with websockets.connect(ws_url, additional_headers=headers, max_size=None) as ws:
        buf = bytearray()
        await read_exactly(ws, buf, 12)
        await ws.send(b"RFB 003.008\n")
        await read_exactly(ws, buf, 2)
        await ws.send(bytes([1]))
        await read_exactly(ws, buf, 4)
        await ws.send(bytes([1]))
        init = await read_exactly(ws, buf, 24)
        width, height = struct.unpack(">HH", init[:4])
        bpp = init[4] // 8
        await read_exactly(ws, buf, struct.unpack(">I", init[20:24])[0])
        await ws.send(struct.pack(">BxHi", 2, 1, 0))  # SetEncodings: raw only
        frames, received, start = 0, 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            await ws.send(struct.pack(">BBHHHH", 3, 0, 0, 0, width, height))  # a whole frame
            while True:  # skip anything but the frame update (bell, cut text)
                kind = (await read_exactly(ws, buf, 1))[0]
                if kind == 0:
                    break
                if kind == 2:
                    continue
                if kind == 3:
                    await read_exactly(ws, buf, 7 + struct.unpack(">I", (await read_exactly(ws, buf, 7))[3:7])[0])
                    continue
                raise SystemExit(f"unexpected server message {kind}")
            (rects,) = struct.unpack(">xH", await read_exactly(ws, buf, 3))
            for _ in range(rects):
                _x, _y, w, h, encoding = struct.unpack(">HHHHi", await read_exactly(ws, buf, 12))
                if encoding == 0:
                    received += len(await read_exactly(ws, buf, w * h * bpp))
            frames += 1
        elapsed = time.perf_counter() - start
    return frames / elapsed, received / elapsed / 1e6, f"{width}x{height}"


def summary(samples):
    samples = sorted(samples)
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
        "max_ms": round(samples[-1], 2),
    }


async def measure(base, cookie, vms, sessions, seconds, keys, web_pid):
    ws = base.replace("http", "ws", 1)
    results = {}
    for n in sessions:
        cpu0, t0 = cpu_seconds(web_pid), time.perf_counter()
        lists = await asyncio.gather(*(serial_session(f"{ws}/ws/vms/{pk}/serial/", cookie, keys) for pk in vms[:n]))
        cpu = (cpu_seconds(web_pid) - cpu0) / (time.perf_counter() - t0)
        results[f"serial_{n}"] = {
            "sessions": n,
            "keystroke_to_echo": summary([s for one in lists for s in one]),
            "web_cpu_percent_per_session": round(100 * cpu / n, 2),
        }
        cpu0, t0 = cpu_seconds(web_pid), time.perf_counter()
        runs = await asyncio.gather(*(vnc_session(f"{ws}/ws/vms/{vms[0]}/vnc/", cookie, seconds) for _ in range(n)))
        cpu = (cpu_seconds(web_pid) - cpu0) / (time.perf_counter() - t0)
        results[f"vnc_{n}"] = {
            "sessions": n,
            "screen": runs[0][2],
            "frames_per_second_per_session": round(statistics.mean(r[0] for r in runs), 1),
            "mb_per_second_per_session": round(statistics.mean(r[1] for r in runs), 1),
            "web_cpu_percent_per_session": round(100 * cpu / n, 2),
        }
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--keys", type=int, default=40)
    args = parser.parse_args()
    os.environ["KVMWEB_CONSOLE_SESSIONS_PER_USER"] = str(SPEED_LIMIT)
    pagebench.setup()
    cookie, vms, cleanup = prepare(max(args.sessions))
    port = free_port()
    env = {**os.environ, "KVMWEB_ALLOWED_HOSTS": "127.0.0.1", "KVMWEB_DEBUG": "0"}
    web = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "kvmweb.asgi:application", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=pagebench.ROOT,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        results = asyncio.run(measure(base, cookie, vms, args.sessions, args.seconds, args.keys, web.pid))
    finally:
        web.terminate()
        web.wait()
        cleanup()
    from apps.hosts.virt import connection
    from tests.consoles_guest import guest_virt_type
    from tests.helpers import QEMU_URI

    print(json.dumps({"guest": guest_virt_type(connection.get(QEMU_URI)), "cpus": os.cpu_count(), **results}, indent=2))


if __name__ == "__main__":
    main()
