"""TenkaiGen's composition root: settings -> backends -> services -> web app.

`python app.py [--host H] [--port P] [--workers N]` serves the API and the studio. `python app.py COMMAND`
runs an operator command instead (doctor, migrate, lifecycle, stats, costs, add-user; each
has --help; cli/). Backends are built from settings in core.backends, for the server and
the commands alike. The web stack (FastAPI, Gradio, the studio) is imported only when
serving, so commands start fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from cli.commands import run_command
from cli.parser import parse_args
from cli.serve import serve
from core import backends
from core.catalog.policy import load_policy
from core.jobs.callbacks import CallbackDispatcher
from core.jobs.quotas import QuotaLimits
from core.jobs.recovery import JobRecovery, RecoveryPolicy
from core.jobs.results import DirectUploads
from core.jobs.service import GenerationService, ServiceLimits
from core.ops.dashboard import DashboardService
from core.publishing.mockup_queue import MockupQueue, QueuePolicy
from core.publishing.service import PublishingConfig, PublishingService
from core.publishing.store import PublishingStore
from core.publishing.variants import VariantCatalog
from core.services import Services
from core.settings import Settings
from core.worker_contract.engine import ImageEngine

if TYPE_CHECKING:
    from fastapi import FastAPI


def qwen_image_engine(settings: Settings) -> ImageEngine:
    """The worker's Qwen-Image engine, for TENKAIGEN_MODEL_PATH (torch loads here, not at import)."""
    from modal_app.engine_config import qwen_image_engine as engine

    assert settings.model_path
    return engine(settings.model_path, cache_dir=settings.hf_cache_dir, revision=settings.model_revision,
                  allow_download=settings.allow_model_download, lightning=settings.lightning_steps,
                  nunchaku=settings.use_nunchaku)


def heartbeat_timeout_s(settings: Settings) -> float:
    """When another process counts this one as gone: three recovery intervals without a heartbeat
    (with no repeating passes, never before the processing deadline)."""
    if settings.recovery_interval_s <= 0:
        return settings.job_deadline_s
    return max(3 * settings.recovery_interval_s, settings.pending_grace_s)


def build_publishing(
    settings: Settings, generation: GenerationService, store: PublishingStore,
    clock: Callable[[], float] = time.time,
) -> tuple[PublishingService, MockupQueue | None]:
    """Publishing to Printful, and the mockup queue's worker, when PRINTFUL_API_TOKEN is set.
    `clock` (epoch seconds) is the rate window's and the lockouts' (tests move it)."""
    key = backends.printful_store_key(settings)
    if not settings.printful_api_token:
        return PublishingService(generation, store, None, None, PublishingConfig(key), clock=clock), None
    client = backends.printful_client_from_settings(settings, clock=clock)
    timeout_s = settings.http_timeout_s
    variants = VariantCatalog(client, ttl_s=settings.printful_variants_ttl_s, timeout_s=timeout_s)
    service = PublishingService(generation, store, client, variants, PublishingConfig(key, request_timeout_s=timeout_s),
                                clock=clock)
    queue = MockupQueue(store, client, QueuePolicy(
        store_key=key, tasks_per_minute=settings.printful_mockup_tasks_per_minute,
        first_check_s=settings.printful_mockup_first_check_s, deadline_s=settings.printful_mockup_deadline_s,
        request_timeout_s=timeout_s,
    ), clock=clock)
    return service, queue


def build_services(settings: Settings) -> Services:
    catalog = backends.catalog_from_settings(settings)
    secret = backends.webhook_secret_from_settings(settings)
    database = backends.open_database(settings)
    callbacks = CallbackDispatcher(database.jobs, secret, settings.public_url,
                                   allow_private=settings.callback_allow_private, timeout_s=settings.http_timeout_s)
    generation = GenerationService(
        jobs=database.jobs,
        objects=backends.object_store_from_settings(settings),
        parser=backends.prompt_parser_from_settings(settings, catalog),
        generator=backends.generator_from_settings(settings, catalog, secret, local_engine=qwen_image_engine),
        catalog=catalog,
        webhook_url=settings.effective_webhook_url,
        limits=ServiceLimits(max_prompt_chars=settings.max_prompt_chars, steps=settings.generation_steps),
        quotas=QuotaLimits(settings.quota_per_minute, settings.quota_per_day, settings.quota_in_flight),
        policy=load_policy(settings.policy_file),
        callbacks=callbacks,
        uploads=DirectUploads(enabled=settings.direct_upload == "auto", expires_s=settings.upload_url_expires_s,
                              check=settings.upload_check),
        printing=backends.print_processor_from_settings(settings, secret),
        png_metadata=settings.png_metadata,
        model_revision=settings.model_revision,
    )
    recovery = JobRecovery(
        generation,
        database.jobs,
        RecoveryPolicy(pending_grace_s=settings.pending_grace_s, processing_deadline_s=settings.job_deadline_s,
                       heartbeat_timeout_s=heartbeat_timeout_s(settings)),
    )
    publishing, mockup_queue = build_publishing(settings, generation, database.publishing)
    return Services(
        settings=settings,
        catalog=catalog,
        generation=generation,
        dashboard=DashboardService(database.jobs, generation.objects, gpu_usd_per_hour=settings.gpu_usd_per_hour),
        accounts=database.accounts,
        authenticator=backends.authenticator_from_settings(settings, database.accounts),
        recovery=recovery,
        webhook_secret=secret,
        publishing=publishing,
        mockup_queue=mockup_queue,
    )


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    """The whole app: the API (api.app), local media, and the studio mounted at /."""
    from api.app import create_api
    from ui.files import StudioFiles
    from ui.mount import mount_studio

    services = services or build_services(settings)
    files = StudioFiles(services.generation)
    return mount_studio(create_api(services, on_shutdown=[files.close]), services, files)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command is None:
        return serve(create_app, args.host, args.port, share=args.share, workers=args.workers)
    return run_command(args.command, args)


if __name__ == "__main__":
    raise SystemExit(main())
