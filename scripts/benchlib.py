"""Shared pieces of the service benchmarks: review texts, a `parcours serve` child process, memory readings."""

from __future__ import annotations

import csv
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
ADMIN = "bench-admin"


def review_texts(count: int, seed: int = 7, shared: Path = SHARED) -> list[str]:
    """Real French insurance and English hotel reviews, sampled with replacement (read-only, never stored here)."""
    texts: list[str] = []
    with (shared / "fr_insurance_reviews" / "fr_insurance_reviews.csv").open(encoding="utf-8", newline="") as handle:
        texts += [r["avis"].strip() for r in csv.DictReader(handle) if r["avis"].strip()]
    with (shared / "booking_hotel_reviews" / "Hotel_Reviews_sample.csv").open(encoding="utf-8", newline="") as handle:
        texts += [f"{r['Positive_Review'].strip()}. {r['Negative_Review'].strip()}" for r in csv.DictReader(handle)]
    rng = random.Random(seed)
    return [rng.choice(texts) for _ in range(count)]


def write_report(path: Path, report: dict[str, Any]) -> None:
    """Write a benchmark's figures to `path` (JSON) and print them, one per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for key, value in report.items():
        print(f"{key:32} {value}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    """Return a process's peak resident memory (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Service:
    """`parcours serve` in a child process, on its own database unless one is given."""

    def __init__(self, database_url: str | None = None, **settings: str) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="parcours-bench-"))
        self.port = _free_port()
        self.env = {
            **os.environ,
            "PARCOURS_DATABASE_URL": database_url or f"sqlite:///{self.folder / 'bench.db'}",
            "PARCOURS_DATA_DIR": str(self.folder),
            "PARCOURS_ADMIN_TOKEN": ADMIN,
            **{f"PARCOURS_{k.upper()}": v for k, v in settings.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}"
        # one client, kept alive: a bare httpx.get() builds a client (SSL context included) per call, ~30 ms
        # of this machine's CPU taken from the service under measurement
        self.http = httpx.Client(base_url=self.url, timeout=300)

    def __enter__(self) -> Service:
        command = [sys.executable, "-c", "from app.cli import main; main()", "serve", "--port", str(self.port)]
        log = (self.folder / "server.log").open("wb")
        self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.5)
        raise RuntimeError(f"the service did not start; see {self.folder / 'server.log'}")

    def __exit__(self, *_: Any) -> None:
        self.http.close()
        if self.process is not None:
            self.process.terminate()
            self.process.wait(60)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def workspace(self, name: str) -> dict[str, str]:
        """Create a workspace; return the auth headers of its key."""
        response = self.http.post(
            "/admin/workspaces", json={"name": name}, headers={"Authorization": f"Bearer {ADMIN}"}
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['api_key']}"}

    def pending(self) -> int:
        """Return how much feedback waits for analysis."""
        return int(self.http.get("/health").json()["database"]["pending_feedback"])


class MemoryWatch(threading.Thread):
    """Sample a process's resident memory every `interval` seconds; `peak_mb` is the highest reading."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_mb = pid, interval, 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                self.peak_mb = max(self.peak_mb, peak_rss_mb(self.pid))
            except OSError:
                return

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return self.peak_mb
