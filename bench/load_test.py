"""Load test with faults: two app processes on one Postgres and one S3 server (run by hand).

    .venv/bin/python bench/load_test.py [--jobs 2000] [--users 50] [--fail-rate 0.05] [--dup-rate 0.1]

Everything runs on loopback and stops by itself:
- a fresh Postgres database on the test server (TENKAIGEN_TEST_PG_URL, dropped at the end);
- moto's S3 server as a subprocess;
- a fake GPU worker subprocess that answers at once and posts the signed webhook right
  away, alternating between the two apps (a load balancer's view); it answers 500 to a
  share of first dispatches (the app retries) and delivers a share of webhooks twice;
- two app processes (`python app.py --port ...`) with Supabase-style HS256 tokens, so
  every simulated user is a distinct account;
- `--users` concurrent users, each submitting a job to one app and polling its status on
  the other until it is visible as finished, until `--jobs` jobs were submitted.

It prints jobs/s, submit latency and webhook-to-visible latency percentiles, and the count
of lost and duplicated jobs (both must be 0), checked in the database, in the bucket and
against what the worker accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("TENKAIGEN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
JWT_SECRET = "load-test-jwt-secret-of-at-least-thirty-two-characters"
S3_KEY = "testing"
BUCKET = "tenkaigen-load"
PROMPTS = ["a cyberpunk samurai with neon lights", "a watercolor whale at dawn", "a retro robot skateboarding",
           "a fox in the snow", "a minimalist mountain logo"]
PRODUCTS = ["sticker", "mug", "t-shirt", "poster"]


# --- the fake worker (runs as `load_test.py worker ...`) -------------------------------------
def run_worker(port: int, secret: str, apps: list[str], fail_rate: float, dup_rate: float, seed: int) -> None:
    import httpx
    import uvicorn
    from PIL import Image
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from core.worker_contract.webhooks import WebhookPayload, WebhookSigner

    rng = random.Random(seed)
    signer = WebhookSigner(secret)
    pngs: dict[tuple[int, int], str] = {}
    attempts: Counter[str] = Counter()
    accepted: Counter[str] = Counter()
    sent_at: dict[str, float] = {}
    statuses: Counter[int] = Counter()
    counts: Counter[str] = Counter()
    tasks: set[asyncio.Task[None]] = set()
    client: dict[str, httpx.AsyncClient] = {}

    def png(width: int, height: int) -> str:
        if (width, height) not in pngs:
            buffer = io.BytesIO()
            Image.new("RGB", (width, height), (200, 40, 120)).save(buffer, format="PNG")
            pngs[(width, height)] = base64.b64encode(buffer.getvalue()).decode()
        return pngs[(width, height)]

    async def deliver(job: dict[str, Any], times: int) -> None:
        payload = WebhookPayload(job_id=job["job_id"], status="completed", image_base64=png(job["width"], job["height"]),
                                 seed=job["seed"])
        body, headers = signer.signed_body(payload)
        sent_at.setdefault(job["job_id"], time.time())
        for _ in range(times):
            counts["deliveries"] += 1
            target = apps[counts["deliveries"] % len(apps)] + "/api/generate/webhook"
            if "http" not in client:
                client["http"] = httpx.AsyncClient(
                    timeout=30, limits=httpx.Limits(max_connections=64, keepalive_expiry=2))
            for _retry in range(5):  # a worker retries a 5xx or a broken connection
                try:
                    response = await client["http"].post(target, content=body, headers=headers)
                except httpx.HTTPError:
                    statuses[599] += 1
                    await asyncio.sleep(0.2)
                    continue
                statuses[response.status_code] += 1
                if response.status_code < 500:
                    break
                await asyncio.sleep(0.2)

    async def generate(request: Request) -> JSONResponse:
        job = await request.json()
        job_id = job["job_id"]
        attempts[job_id] += 1
        if attempts[job_id] == 1 and rng.random() < fail_rate:
            counts["injected_500"] += 1
            return JSONResponse({"detail": "injected failure"}, status_code=500)
        accepted[job_id] += 1
        times = 2 if rng.random() < dup_rate else 1
        counts["duplicated_webhooks"] += times - 1
        task = asyncio.create_task(deliver(job, times))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return JSONResponse({"job_id": job_id, "status": "accepted"}, status_code=202)

    async def stats(_: Request) -> JSONResponse:
        return JSONResponse({"accepted": accepted, "sent_at": sent_at, "webhook_statuses": statuses,
                             "counts": counts, "in_progress": len(tasks)})

    app = Starlette(routes=[Route("/generate", generate, methods=["POST"]), Route("/stats", stats)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


# --- orchestration ------------------------------------------------------------------------
def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, what: str, timeout_s: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} did not come up at {url} within {timeout_s:.0f} s")


def token(user: str) -> str:
    import jwt

    now = int(time.time())
    claims = {"sub": user, "aud": "authenticated", "role": "authenticated", "iat": now, "exp": now + 7200}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


def percentiles(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)

    def pick(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000

    return f"p50 {pick(50):7.1f} ms   p95 {pick(95):7.1f} ms   p99 {pick(99):7.1f} ms   (n={len(values)})"


class Services:
    """The subprocesses and the database of one run; `close` ends them all."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: list[subprocess.Popen[bytes]] = []
        self.database_url = ""
        self.db_name = ""

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        self.processes.append(subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **(env or {})},
                                               stdout=log, stderr=subprocess.STDOUT))

    def create_database(self) -> str:
        import psycopg

        self.db_name = f"tenkaigen_load_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{self.db_name}"')
        self.database_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.db_name}"
        return self.database_url

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.db_name:
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')


async def run_users(apps: list[str], args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    submitted: dict[str, dict[str, Any]] = {}
    submit_latency: list[float] = []
    next_job = 0
    counts: Counter[str] = Counter()
    deadline = time.monotonic() + args.timeout
    # idle connections are dropped before uvicorn's 5 s keep-alive closes them under us
    limits = httpx.Limits(max_connections=args.users * 2, max_keepalive_connections=args.users * 2, keepalive_expiry=2)

    async with httpx.AsyncClient(timeout=30, limits=limits) as http:

        async def user(index: int) -> None:
            nonlocal next_job
            name = f"load-user-{index:03d}"
            headers = {"Authorization": f"Bearer {token(name)}"}
            rng = random.Random(index)
            while next_job < args.jobs and time.monotonic() < deadline:
                number = next_job
                next_job += 1
                submit_to, poll_on = apps[number % 2], apps[(number + 1) % 2]
                body = {"prompt": rng.choice(PROMPTS), "style": "anime", "product": rng.choice(PRODUCTS)}
                while time.monotonic() < deadline:
                    started = time.monotonic()
                    try:
                        response = await http.post(f"{submit_to}/api/generate", json=body, headers=headers)
                    except httpx.ConnectError:  # nothing was sent: safe to send again
                        counts["submit_connect_error"] += 1
                        continue
                    except httpx.TransportError as exc:  # the answer was lost: the job may exist
                        counts["submit_answer_lost"] += 1
                        counts[f"submit_{type(exc).__name__}"] += 1
                        response = None
                        break
                    if response.status_code == 429:
                        counts["429"] += 1
                        await asyncio.sleep(min(5.0, float(response.headers.get("retry-after", "1"))))
                        continue
                    break
                if response is None:
                    continue
                submit_latency.append(time.monotonic() - started)
                if response.status_code != 202:
                    counts[f"submit_{response.status_code}"] += 1
                    continue
                job_id = response.json()["job_id"]
                submitted[job_id] = {"user": name}
                while time.monotonic() < deadline:
                    try:
                        status = (await http.get(f"{poll_on}/api/generate/status/{job_id}", headers=headers)).json()
                    except httpx.TransportError as exc:
                        counts[f"poll_{type(exc).__name__}"] += 1
                        continue
                    if status["status"] in {"completed", "failed", "canceled"}:
                        submitted[job_id].update(status=status["status"], seen_at=time.time(), error=status["error"])
                        break
                    await asyncio.sleep(args.poll_ms / 1000)

        started = time.monotonic()
        await asyncio.gather(*(user(i) for i in range(args.users)))
        elapsed = time.monotonic() - started
    return {"submitted": submitted, "submit_latency": submit_latency, "counts": counts, "elapsed": elapsed}


def verify(services: Services, result: dict[str, Any], worker: dict[str, Any], endpoint: str) -> dict[str, int]:
    import boto3
    import psycopg

    with psycopg.connect(services.database_url, autocommit=True) as conn:
        rows = conn.execute("SELECT id::text, user_id, status, storage_key FROM generation_jobs").fetchall()
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id=S3_KEY, aws_secret_access_key=S3_KEY)
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        keys.update(o["Key"] for o in page.get("Contents", []))
    submitted = result["submitted"]
    by_id = {r[0]: r for r in rows}
    completed_keys = {r[3] for r in rows if r[2] == "completed"}
    return {
        "lost (accepted but not completed, or missing)": sum(
            1 for j in submitted if j not in by_id or by_id[j][2] != "completed"),
        # a submit whose answer was lost may have created its job: such a row is not a duplicate
        "duplicated (rows nobody submitted)": max(
            0, sum(1 for r in rows if r[0] not in submitted) - result["counts"].get("submit_answer_lost", 0)),
        "duplicated (dispatched to the worker twice)": sum(1 for n in worker["accepted"].values() if n > 1),
        "objects without a completed job": len(keys - completed_keys),
        "completed jobs without an object": len(completed_keys - keys),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--fail-rate", type=float, default=0.05, help="share of first dispatches answered 500")
    parser.add_argument("--dup-rate", type=float, default=0.10, help="share of webhooks delivered twice")
    parser.add_argument("--poll-ms", type=float, default=50, help="how often a user polls its job's status")
    parser.add_argument("--timeout", type=float, default=900, help="the load phase stops after this many seconds")
    parser.add_argument("--keep-logs", action="store_true", help="print where the process logs are and keep them")
    sub = parser.add_subparsers(dest="role")
    worker = sub.add_parser("worker")
    worker.add_argument("--port", type=int, required=True)
    worker.add_argument("--secret", required=True)
    worker.add_argument("--apps", required=True)
    worker.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.role == "worker":
        run_worker(args.port, args.secret, args.apps.split(","), args.fail_rate, args.dup_rate, args.seed)
        return 0

    from core.worker_contract.webhooks import generate_webhook_secret

    workdir = Path(tempfile.mkdtemp(prefix="tenkaigen-load-"))
    services = Services(workdir)
    secret = generate_webhook_secret()
    s3_port, worker_port, app_ports = free_port(), free_port(), [free_port(), free_port()]
    endpoint = f"http://127.0.0.1:{s3_port}"
    apps = [f"http://127.0.0.1:{p}" for p in app_ports]
    worker_url = f"http://127.0.0.1:{worker_port}"
    try:
        database_url = services.create_database()
        services.spawn("s3", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)])
        wait_http(endpoint, "the S3 server")
        import boto3

        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=S3_KEY,
                     aws_secret_access_key=S3_KEY).create_bucket(Bucket=BUCKET)
        services.spawn("worker", [sys.executable, __file__, "--fail-rate", str(args.fail_rate), "--dup-rate",
                                  str(args.dup_rate), "worker", "--port", str(worker_port), "--secret", secret,
                                  "--apps", ",".join(apps)])
        wait_http(worker_url + "/stats", "the fake worker")
        env = {
            "DATABASE_URL": database_url, "B2_S3_ENDPOINT": endpoint, "B2_S3_REGION": "us-east-1",
            "B2_S3_BUCKET": BUCKET, "B2_S3_ACCESS_KEY_ID": S3_KEY, "B2_S3_SECRET_ACCESS_KEY": S3_KEY,
            "MODAL_GENERATE_ENDPOINT": worker_url, "TENKAIGEN_WEBHOOK_SECRET": secret,
            "SUPABASE_JWT_SECRET": JWT_SECRET, "TENKAIGEN_QUOTA_PER_MINUTE": "0", "TENKAIGEN_QUOTA_PER_DAY": "0",
            "TENKAIGEN_QUOTA_IN_FLIGHT": "4", "TENKAIGEN_DISPATCH_BACKOFF_S": "0.05",
            "TENKAIGEN_PENDING_GRACE_S": "5", "TENKAIGEN_RECOVERY_INTERVAL_S": "5",
        }
        for index, port in enumerate(app_ports):
            services.spawn(f"app{index}", [sys.executable, "app.py", "--port", str(port)],
                           {**env, "TENKAIGEN_DATA_DIR": str(workdir / f"app{index}"),
                            "TENKAIGEN_PUBLIC_URL": apps[index]})
        for url in apps:
            wait_http(url + "/api/health", "an app process", timeout_s=120)

        print(f"load: {args.jobs} jobs from {args.users} users on 2 app processes; "
              f"worker 500s on {args.fail_rate:.0%} of first dispatches, {args.dup_rate:.0%} webhooks twice")
        result = asyncio.run(run_users(apps, args))
        import httpx

        deadline = time.monotonic() + 30
        while (stats := httpx.get(worker_url + "/stats", timeout=10).json())["in_progress"] and time.monotonic() < deadline:
            time.sleep(0.2)  # let duplicate deliveries land before counting
        report(result, stats, verify(services, result, stats, endpoint), args.poll_ms)
        return 0
    finally:
        services.close()
        if args.keep_logs:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def report(result: dict[str, Any], worker: dict[str, Any], checks: dict[str, int], poll_ms: float) -> None:
    submitted = result["submitted"]
    done = [j for j in submitted.values() if j.get("status") == "completed"]
    visible = [j["seen_at"] - worker["sent_at"][jid] for jid, j in submitted.items()
               if j.get("status") == "completed" and jid in worker["sent_at"]]
    print(f"submitted {len(submitted)}, completed {len(done)} in {result['elapsed']:.1f} s "
          f"-> {len(done) / result['elapsed']:.1f} jobs/s")
    print(f"submit latency            {percentiles(result['submit_latency'])}")
    print(f"webhook-to-visible        {percentiles(visible)}   (status polled every {poll_ms:.0f} ms)")
    print(f"worker: injected 500s {worker['counts'].get('injected_500', 0)}, "
          f"duplicate webhooks {worker['counts'].get('duplicated_webhooks', 0)}, "
          f"webhook answers {dict(sorted(worker['webhook_statuses'].items()))}")
    if result["counts"]:
        print(f"client: {dict(result['counts'])}")
    if failed := Counter(j.get("error") for j in submitted.values() if j.get("status") == "failed"):
        print(f"failed jobs by reason: {dict(failed)}")
    for name, value in checks.items():
        print(f"{name:<48} {value}")
    lost_or_duplicated = sum(checks.values())
    print("RESULT: " + ("OK, no job lost or duplicated" if lost_or_duplicated == 0 else "FAILED"))


if __name__ == "__main__":
    raise SystemExit(main())
