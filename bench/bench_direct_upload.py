"""Results straight to the bucket, end to end, against the bucket's own speed (run by hand).

    .venv/bin/python -m bench.bench_direct_upload [--jobs 320] [--concurrency 16] [--mode direct|base64|both]
        [--upload-check full|header]

Everything runs on loopback and stops by itself:
- Postgres: TENKAIGEN_TEST_PG_URL's server, or a throwaway one (tests/support/postgres.py);
  a fresh database, dropped at the end;
- moto's S3 server (ThreadedMotoServer) in its own process;
- one app process (`python app.py`, uvicorn) storing in that bucket;
- an instant fake GPU worker in this process: for each signed dispatch it PUTs a ~1.6 MB PNG
  of the asked size to the dispatch's presigned URL and posts the small signed webhook
  (`--mode base64`: no upload, the PNG base64 in the webhook, as before direct uploads).

`--concurrency` clients each submit a job and wait until its webhook was applied, until
`--jobs` jobs are done: jobs/s end to end. Then, in the same run, the same PNG is PUT with
boto3 to the same server at the same concurrency: PUT/s; and once more, each PUT followed by the
GET the app's check makes (`--upload-check`: the whole object, or a ranged GET of its first 33
bytes): the bucket's own ceiling for a direct-upload job. It prints both, their ratio, and the
webhook's latency as the worker sees it (p50/p95), and the CPU time each process spent per job
(the app, moto's server, Postgres, and this process: the clients and the fake worker), which
says where a job's time goes on a machine whose cores they all share.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load_test import free_port, wait_http  # noqa: E402 (after the path)

S3_KEY = "testing"
BUCKET = "tenkaigen-bench"
PNG_BYTES = 1_600_000


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def noisy_png(width: int, height: int, target_bytes: int = PNG_BYTES) -> bytes:
    """A PNG of the asked size, about `target_bytes` long: random rows (incompressible) on a flat colour."""
    from PIL import Image

    rows = max(1, min(height, target_bytes // (width * 3)))
    image = Image.new("RGB", (width, height), (200, 40, 120))
    image.paste(Image.frombytes("RGB", (width, rows), os.urandom(width * rows * 3)), (0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


# --- the servers ------------------------------------------------------------------------------
@contextmanager
def postgres_server() -> Any:
    from tests.support.postgres import PG_URL_VARIABLE, ThrowawayPostgres, fresh_database

    with ExitStack() as stack:
        admin_url = os.environ.get(PG_URL_VARIABLE)
        if not admin_url:
            admin_url = stack.enter_context(ThrowawayPostgres()).admin_url
        yield stack.enter_context(fresh_database(admin_url, "tenkaigen_bench"))


@contextmanager
def process(name: str, argv: list[str], workdir: Path, env: dict[str, str] | None = None) -> Any:
    log = open(workdir / f"{name}.log", "wb")  # noqa: SIM115 (closed below)
    child = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield child
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        log.close()


MOTO_SCRIPT = """
import sys, threading
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
threading.Event().wait()
"""


class FakeWorker:
    """Accepts signed dispatches and, at once, uploads the PNG and posts the signed webhook."""

    def __init__(self, secret: str, mode: str) -> None:
        self.secret = secret
        self.mode = mode
        self.pngs: dict[tuple[int, int], bytes] = {}
        self.webhook_s: list[float] = []
        self.put_s: list[float] = []
        self.webhook_bytes: list[int] = []
        self.failures: list[str] = []
        self._done: dict[str, threading.Event] = {}
        self._receipts: dict[int, Any] = {}
        self._lock = threading.Lock()

    def done(self, job_id: str) -> threading.Event:
        with self._lock:
            return self._done.setdefault(job_id, threading.Event())

    def png(self, width: int, height: int) -> bytes:
        if (width, height) not in self.pngs:
            self.pngs[(width, height)] = noisy_png(width, height)
        return self.pngs[(width, height)]

    def receipt(self, png: bytes) -> Any:
        """The upload's receipt; the digest is the real worker's work, computed once here."""
        import hashlib

        from core.worker_contract.messages import UploadedImage

        if id(png) not in self._receipts:
            self._receipts[id(png)] = UploadedImage(bytes=len(png), sha256=hashlib.sha256(png).hexdigest())
        return self._receipts[id(png)]

    def app(self) -> Any:
        import base64

        import httpx
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        from core.worker_contract.messages import WebhookPayload
        from core.worker_contract.webhooks import SignatureRejected, WebhookSigner, verify_signature

        signer = WebhookSigner(self.secret)
        clients: dict[str, httpx.AsyncClient] = {}
        tasks: set[asyncio.Task[None]] = set()

        def client() -> httpx.AsyncClient:
            if "http" not in clients:
                clients["http"] = httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=64))
            return clients["http"]

        async def deliver(job: dict[str, Any]) -> None:
            png = self.png(job["width"], job["height"])
            upload = job.get("upload")
            try:
                if upload is not None:
                    started = time.perf_counter()
                    answer = await client().put(upload["url"], content=png, headers=upload["headers"])
                    self.put_s.append(time.perf_counter() - started)
                    answer.raise_for_status()
                    payload = WebhookPayload(job_id=job["job_id"], status="completed", seed=job["seed"],
                                             image=self.receipt(png), gpu_seconds=0.01, cold_start_seconds=0.0)
                else:
                    payload = WebhookPayload(job_id=job["job_id"], status="completed", seed=job["seed"],
                                             image_base64=base64.b64encode(png).decode(), gpu_seconds=0.01)
                body, headers = signer.signed_body(payload)
                self.webhook_bytes.append(len(body))
                started = time.perf_counter()
                response = await client().post(job["webhook_url"], content=body, headers=headers)
                self.webhook_s.append(time.perf_counter() - started)
                if response.status_code >= 300:
                    self.failures.append(f"webhook {response.status_code}: {response.text[:200]}")
            except Exception as exc:  # recorded: the run reports it instead of hanging
                self.failures.append(f"{type(exc).__name__}: {exc}")
            self.done(job["job_id"]).set()

        async def generate(request: Request) -> JSONResponse:
            raw = await request.body()
            try:
                verify_signature(self.secret, raw, dict(request.headers))
            except SignatureRejected as exc:
                return JSONResponse({"detail": str(exc)}, status_code=401)
            job = json.loads(raw)
            task = asyncio.create_task(deliver(job))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            return JSONResponse({"job_id": job["job_id"], "status": "accepted", "queue_depth": 0}, status_code=202)

        return Starlette(routes=[Route("/generate", generate, methods=["POST"])])


@contextmanager
def serve_in_thread(app: Any, port: int) -> Any:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise SystemExit("the fake worker did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class CpuMeter:
    """CPU seconds (user + system) spent by the app, moto's server, Postgres and this process."""

    def __init__(self, app_pid: int, moto_pid: int) -> None:
        self._pids = {"app": app_pid, "moto": moto_pid, "bench": os.getpid()}

    def sample(self) -> dict[str, float]:
        import psutil

        spent = {}
        for name, pid in self._pids.items():
            try:
                times = psutil.Process(pid).cpu_times()
                spent[name] = times.user + times.system
            except psutil.NoSuchProcess:
                spent[name] = 0.0
        spent["postgres"] = 0.0
        for proc in psutil.process_iter(["name", "cpu_times"]):
            if proc.info["name"] and proc.info["name"].startswith("postgres") and proc.info["cpu_times"]:
                spent["postgres"] += proc.info["cpu_times"].user + proc.info["cpu_times"].system
        return spent

    @staticmethod
    def per_item_ms(before: dict[str, float], after: dict[str, float], items: int) -> dict[str, float]:
        return {name: round((after[name] - before[name]) / items * 1000, 2) for name in after}


# --- the measurements ---------------------------------------------------------------------------
def run_jobs(app_url: str, worker: FakeWorker, jobs: int, concurrency: int) -> float:
    """Jobs/s: `concurrency` clients, each submitting and waiting for its job's webhook to be applied."""
    import httpx

    remaining = [jobs]
    lock = threading.Lock()

    def client_loop() -> int:
        done = 0
        with httpx.Client(base_url=app_url, timeout=60) as http:
            while True:
                with lock:
                    if remaining[0] == 0:
                        return done
                    remaining[0] -= 1
                answer = http.post("/api/generate", json={"prompt": "a fox in the snow", "style": "anime",
                                                          "product": "sticker"})
                if answer.status_code != 202:
                    raise SystemExit(f"submit answered {answer.status_code}: {answer.text[:300]}")
                if not worker.done(answer.json()["job_id"]).wait(timeout=120):
                    raise SystemExit("a job's webhook never came")
                done += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        total = sum(pool.map(lambda _: client_loop(), range(concurrency)))
    return total / (time.perf_counter() - started)


def raw_put_rate(endpoint: str, png: bytes, puts: int, concurrency: int, then_check: str | None = None) -> float:
    """PUT/s of the same PNG to the same server with boto3 at the same concurrency; with
    `then_check` ("full" or "header"), each PUT followed by the GET the app's check makes (the
    whole object, or its first 33 bytes): the bucket's own ceiling for a direct-upload job."""
    from core.storage import make_s3_client

    client = make_s3_client(endpoint, "us-east-1", S3_KEY, S3_KEY, timeout_s=60)

    def one(i: int) -> None:
        key = f"raw/{i}.png"
        client.put_object(Bucket=BUCKET, Key=key, Body=png, ContentType="image/png")
        if then_check == "full":
            client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        elif then_check == "header":
            client.get_object(Bucket=BUCKET, Key=key, Range="bytes=0-32")["Body"].read()

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(puts)))
    return puts / (time.perf_counter() - started)


def check_completed(database_url: str, jobs: int) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FROM generation_jobs").fetchone()
    return int(row[0]), int(row[1])


def run_mode(mode: str, args: argparse.Namespace, database_url: str, s3_endpoint: str, workdir: Path,
             moto_pid: int) -> dict[str, Any]:
    from core.worker_contract.webhooks import generate_webhook_secret

    secret = generate_webhook_secret()
    worker = FakeWorker(secret, mode)
    app_port = free_port()
    app_url = f"http://127.0.0.1:{app_port}"
    with serve_in_thread(worker.app(), free_port()) as worker_url:
        env = {
            "TENKAIGEN_DATA_DIR": str(workdir / f"data-{mode}"), "DATABASE_URL": database_url,
            "B2_S3_ENDPOINT": s3_endpoint, "B2_S3_REGION": "us-east-1", "B2_S3_BUCKET": BUCKET,
            "B2_S3_ACCESS_KEY_ID": S3_KEY, "B2_S3_SECRET_ACCESS_KEY": S3_KEY, "B2_S3_PREFIX": f"{mode}/",
            "MODAL_GENERATE_ENDPOINT": worker_url, "TENKAIGEN_WEBHOOK_SECRET": secret,
            "TENKAIGEN_WEBHOOK_URL": f"{app_url}/api/generate/webhook", "TENKAIGEN_PUBLIC_URL": app_url,
            "TENKAIGEN_DIRECT_UPLOAD": "auto" if mode == "direct" else "off", "TENKAIGEN_AUTH": "none",
            "TENKAIGEN_QUOTA_PER_MINUTE": "0", "TENKAIGEN_QUOTA_PER_DAY": "0", "TENKAIGEN_QUOTA_IN_FLIGHT": "0",
            "TENKAIGEN_RECOVERY_INTERVAL_S": "0", "TENKAIGEN_UPLOAD_CHECK": args.upload_check,
        }
        for name in ("GEMINI_API_KEY", "SUPABASE_URL", "SUPABASE_JWT_SECRET", "PRINTFUL_API_TOKEN", "TENKAIGEN_MODEL_PATH"):
            env[name] = ""
        with process(f"app-{mode}", [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(app_port)],
                     workdir, env) as app:
            wait_http(f"{app_url}/api/health", "the app")
            run_jobs(app_url, worker, args.concurrency, args.concurrency)  # warm-up: connections, first PNG
            worker.webhook_s.clear(), worker.put_s.clear(), worker.webhook_bytes.clear()
            meter = CpuMeter(app.pid, moto_pid)
            before = meter.sample()
            jobs_per_s = run_jobs(app_url, worker, args.jobs, args.concurrency)
            job_cpu_ms = meter.per_item_ms(before, meter.sample(), args.jobs)
    if worker.failures:
        raise SystemExit(f"{len(worker.failures)} deliveries failed, first: {worker.failures[0]}")
    png = next(iter(worker.pngs.values()))
    before = meter.sample()
    puts_per_s = raw_put_rate(s3_endpoint, png, args.jobs, args.concurrency)
    put_cpu_ms = meter.per_item_ms(before, meter.sample(), args.jobs)
    put_and_check_per_s = (raw_put_rate(s3_endpoint, png, args.jobs, args.concurrency, then_check=args.upload_check)
                           if mode == "direct" else None)
    return {
        "mode": mode, "png_bytes": len(png), "jobs_per_s": jobs_per_s, "raw_put_per_s": puts_per_s,
        "ratio": jobs_per_s / puts_per_s,
        "raw_put_and_check_per_s": put_and_check_per_s,
        "ratio_to_put_and_check": jobs_per_s / put_and_check_per_s if put_and_check_per_s else None,
        "webhook_p50_ms": percentile(worker.webhook_s, 50) * 1000, "webhook_p95_ms": percentile(worker.webhook_s, 95) * 1000,
        "webhook_body_bytes_max": max(worker.webhook_bytes),
        "worker_put_p95_ms": percentile(worker.put_s, 95) * 1000 if worker.put_s else None,
        "cpu_ms_per_job": job_cpu_ms, "cpu_ms_per_raw_put": put_cpu_ms,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=320, help="jobs measured per mode (after a warm-up round)")
    parser.add_argument("--concurrency", type=int, default=16, help="clients at once, and boto3 PUTs at once")
    parser.add_argument("--mode", choices=("direct", "base64", "both"), default="direct")
    parser.add_argument("--upload-check", choices=("full", "header"), default="full",
                        help="the app's TENKAIGEN_UPLOAD_CHECK for direct uploads")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import boto3

    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="tenkaigen-bench-"))
    modes = ("direct", "base64") if args.mode == "both" else (args.mode,)
    reports = []
    try:
        moto_port = free_port()
        s3_endpoint = f"http://127.0.0.1:{moto_port}"
        with postgres_server() as database_url, process("moto", [sys.executable, "-c", MOTO_SCRIPT, str(moto_port)],
                                                        workdir) as moto:
            wait_http(s3_endpoint, "moto's S3 server")
            boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id=S3_KEY,
                         aws_secret_access_key=S3_KEY).create_bucket(Bucket=BUCKET)
            for mode in modes:
                report = run_mode(mode, args, database_url, s3_endpoint, workdir, moto.pid)
                reports.append(report)
                print(f"{mode:>6}: {report['jobs_per_s']:.1f} jobs/s end to end vs {report['raw_put_per_s']:.1f} raw "
                      f"boto3 PUT/s of the same {report['png_bytes'] / 1e6:.2f} MB PNG at concurrency "
                      f"{args.concurrency}: ratio {report['ratio']:.2f}x; webhook p50 {report['webhook_p50_ms']:.1f} ms, "
                      f"p95 {report['webhook_p95_ms']:.1f} ms; largest webhook body {report['webhook_body_bytes_max']:,} B",
                      flush=True)
                if report["raw_put_and_check_per_s"]:
                    print(f"        raw PUT + the check's GET, pairs/s (the bucket's ceiling for a direct job's two "
                          f"requests): {report['raw_put_and_check_per_s']:.1f}; jobs/s to that: "
                          f"{report['ratio_to_put_and_check']:.2f}x", flush=True)
                print(f"        CPU ms per job {report['cpu_ms_per_job']}; per raw PUT {report['cpu_ms_per_raw_put']}",
                      flush=True)
            completed, total = check_completed(database_url, args.jobs)
            print(f"jobs in the database: {completed} completed of {total}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(reports, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
