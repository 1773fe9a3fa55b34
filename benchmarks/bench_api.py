"""Bounded load run of the REST API on loopback (NOT part of the test suite).

Starts uvicorn in a thread on 127.0.0.1 over a store (``--store`` or a
synthetic one), then sends N requests at concurrency C with httpx and prints
p50/p99 latency and throughput per endpoint mix. Example::

    python benchmarks/bench_api.py --requests 5000 --concurrency 20
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import uvicorn

PATHS = [
    "/api/v1/health",
    "/api/v1/universe",
    "/api/v1/panel?symbols=A1,C1&start=2021-01-01",
    "/api/v1/baskets/levels?baskets=ai,crypto",
    "/api/v1/rotation-index?a=ai&b=crypto",
    "/api/v1/rrg?baskets=ai,crypto",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _load(base: str, n: int, conc: int) -> list[float]:
    lat: list[float] = []
    sem = asyncio.Semaphore(conc)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        async def one(i: int) -> None:
            async with sem:
                t = time.perf_counter()
                r = await client.get(PATHS[i % len(PATHS)])
                lat.append(time.perf_counter() - t)
                if r.status_code != 200:
                    raise SystemExit(f"{PATHS[i % len(PATHS)]}: HTTP {r.status_code} {r.text[:200]}")
        await asyncio.gather(*(one(i) for i in range(n)))
    return lat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=20)
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "api"))
    from conftest import UNIVERSE, write_synthetic  # the synthetic store of the API tests

    from rotation.api import create_app

    root = Path(tempfile.mkdtemp(prefix="bench-api-"))
    (root / "u.toml").write_text(UNIVERSE)
    write_synthetic(root / "s.duckdb")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(root / "s.duckdb", root / "u.toml"), host="127.0.0.1",
                                           port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    while not server.started:
        time.sleep(0.05)
    t0 = time.perf_counter()
    lat = np.array(asyncio.run(_load(f"http://127.0.0.1:{port}", args.requests, args.concurrency)))
    wall = time.perf_counter() - t0
    server.should_exit = True
    th.join(10)
    print(f"{args.requests} requests, concurrency {args.concurrency}: {args.requests / wall:,.0f} req/s; "
          f"p50 {np.percentile(lat, 50) * 1e3:.1f} ms, p99 {np.percentile(lat, 99) * 1e3:.1f} ms "
          f"(first call per endpoint computes, the rest are cache hits)")


if __name__ == "__main__":
    main()
