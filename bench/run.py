"""Benchmark: the service's audited quote endpoints against a hand-written floor (raw asyncpg +
Starlette doing the same work per request), one worker each, alternating runs.

    make bench                       # or: python bench/run.py --rounds 5 --duration 10

Uses wrk (Debian package `wrk`) as the load generator when installed, else a small Python one.
DATABASE_URL (default: the local server on 127.0.0.1:5432, database lpl_bench, made afresh).
Prints requests/s and p50/p99 per target and the ratio service/floor (medians of the rounds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
SECRET = "bench-secret-" + "b" * 40
PASSWORD = "benchmark passphrase for one lawyer"
QUOTE_BODY = {
    "program_year": 2025,
    "effective_date": "2025-03-01",
    "years_in_practice": 2,
    "deductible": "2500_combined",
    "real_estate": True,
    "innocent_party_sublimit": "500000",
    "risk_management_programs": 1,
    "payment_plan": "quarterly",
}


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def fresh_database(server: str, name: str) -> str:
    conn = await asyncpg.connect(plain(server))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server.rsplit("/", 1)[0] + f"/{name}"


def start(cmd: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/quotes/x", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{cmd} did not start")


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far (Linux), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


WRK_LINE = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$")


def to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(
    url: str, token: str, *, post: bool, duration: int, connections: int
) -> dict[str, float]:
    script = None
    args = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {token}",
    ]
    if post:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(
            'wrk.method = "POST"\n'
            f"wrk.body = [[{json.dumps(QUOTE_BODY)}]]\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        script.close()
        args += ["-s", script.name]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    if script:
        os.unlink(script.name)
    result: dict[str, float] = {}
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            result["rps"] = float(line.split()[1])
        elif m := WRK_LINE.match(line):
            result[f"p{m.group(1)}"] = to_ms(m.group(2), m.group(3))
        elif "Non-2xx" in line:
            result["errors"] = float(line.split()[-1])
    return result


async def python_load(
    url: str, token: str, *, post: bool, duration: int, connections: int
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + duration

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            t = time.perf_counter()
            r = await (client.post(url, json=QUOTE_BODY) if post else client.get(url))
            latencies.append((time.perf_counter() - t) * 1000)
            errors += r.status_code >= 300

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(headers=headers, timeout=10) as client:
        await asyncio.gather(*(worker(client) for _ in range(connections)))
    latencies.sort()
    return {
        "rps": len(latencies) / duration,
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[int(len(latencies) * 0.99)],
        "errors": float(errors),
    }


def load(url: str, token: str, *, post: bool, duration: int, connections: int) -> dict[str, float]:
    if shutil.which("wrk"):
        return run_wrk(url, token, post=post, duration=duration, connections=connections)
    return asyncio.run(
        python_load(url, token, post=post, duration=duration, connections=connections)
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    server = os.environ.get("BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    url = asyncio.run(fresh_database(server, "lpl_bench"))
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "APP_ENV": "test",
        "AUTH_RATE_LIMIT": "100000",
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run([PY, "-m", "app", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    user = subprocess.run(
        [
            PY,
            "-m",
            "app",
            "users",
            "create",
            "--username",
            "98765A",
            "--role",
            "lawyer",
            "--password-stdin",
        ],
        cwd=ROOT,
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert user.stdout.strip()

    service = start([PY, "-m", "app", "serve", "--port", "8100", "--workers", "1"], env, 8100)
    floor = start([PY, "bench/floor.py", "--port", "8101"], env, 8101)
    try:
        token = httpx.post(
            "http://127.0.0.1:8100/auth/token", data={"username": "98765A", "password": PASSWORD}
        ).json()["access_token"]
        created = httpx.post(
            "http://127.0.0.1:8100/quotes",
            json=QUOTE_BODY,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 201, created.text
        quote_id = created.json()["id"]
        floor_quote = httpx.get(
            f"http://127.0.0.1:8101/quotes/{quote_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert floor_quote.status_code == 200, floor_quote.text

        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        cases = [
            ("GET /quotes/{id}", False, f"/quotes/{quote_id}"),
            ("POST /quotes", True, "/quotes"),
        ]
        for _ in range(args.rounds):
            for name, post, path in cases:
                for target, port in (("service", 8100), ("floor", 8101)):
                    r = load(
                        f"http://127.0.0.1:{port}{path}",
                        token,
                        post=post,
                        duration=args.duration,
                        connections=args.connections,
                    )
                    results.setdefault((name, target), []).append(r)
        print(
            f"load generator: {'wrk' if shutil.which('wrk') else 'python'}, {args.rounds} alternating "
            f"rounds of {args.duration}s, {args.connections} connections, one worker each"
        )
        print(
            f"{'endpoint':<18} {'target':<8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}"
        )
        for name, _, _ in cases:
            med = {}
            for target in ("service", "floor"):
                rs = results[(name, target)]
                med[target] = {
                    k: statistics.median(r.get(k, 0.0) for r in rs)
                    for k in ("rps", "p50", "p99", "errors")
                }
                m = med[target]
                print(
                    f"{name:<18} {target:<8} {m['rps']:>9.0f} {m['p50']:>8.2f} {m['p99']:>8.2f} {m['errors']:>8.0f}"
                )
            ratios = [
                s["rps"] / f["rps"]
                for s, f in zip(results[(name, "service")], results[(name, "floor")])
            ]
            print(
                f"{name:<18} ratio service/floor: throughput {statistics.median(ratios):.2f}x "
                f"(rounds {', '.join(f'{x:.2f}' for x in ratios)}), "
                f"p99 {med['service']['p99'] / med['floor']['p99']:.2f}x"
            )
        for name, proc in (("service", service), ("floor", floor)):
            print(f"peak memory (VmHWM) {name}: {peak_rss_mib(proc.pid):.0f} MiB")
    finally:
        for proc in (service, floor):
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
