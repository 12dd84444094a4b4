"""How long a change made outside the dashboard takes to reach an open browser.

Against a running kvmweb (scripts/run): logs in, opens the live WebSocket as a browser would,
then starts and destroys a demo-host domain with virsh and times each until the pushed fragment
shows the new state. Prints JSON.

    .venv/bin/python bench/live_latency.py --url http://127.0.0.1:8000 --user admin --password …
"""

import argparse
import asyncio
import http.cookiejar
import json
import re
import statistics
import subprocess
import time
import urllib.parse
import urllib.request

import websockets


def login(url, user, password):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{url}/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": user, "password": password, "csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(f"{url}/login/", data=data, headers={"Referer": f"{url}/login/"})
    opener.open(request)
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        raise SystemExit("login failed")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


async def measure(url, cookie, domain, rounds):
    ws_url = url.replace("http", "ws", 1) + "/ws/live/"
    samples = []
    async with websockets.connect(ws_url, additional_headers={"Cookie": cookie, "Origin": url}) as ws:
        for i in range(rounds):
            action, state = ("start", "running") if i % 2 == 0 else ("destroy", "shutoff")
            t0 = time.perf_counter()
            subprocess.run(["virsh", "-c", "test+unix:///default", action, domain], check=True, capture_output=True)
            while True:
                message = await asyncio.wait_for(ws.recv(), timeout=10)
                if f'data-state="{state}"' in message and "vm-row-" in message:
                    samples.append((time.perf_counter() - t0) * 1000)
                    break
    return samples


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", required=True)
    parser.add_argument("--domain", default="legacy-app", help="a demo-host domain that is shut off")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    cookie = login(args.url, args.user, args.password)
    samples = asyncio.run(measure(args.url, cookie, args.domain, args.rounds))
    samples.sort()
    print(
        json.dumps(
            {
                "bench": "outside change to browser (virsh -> libvirt event -> monitor -> channel layer -> WebSocket)",
                "rounds": len(samples),
                "ms_p50": round(statistics.median(samples), 1),
                "ms_p95": round(samples[int(len(samples) * 0.95) - 1], 1),
                "ms_max": round(samples[-1], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
