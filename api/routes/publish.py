"""/api/generate/{job_id}/variants, /mockups and /publish: a completed design to the Printful
store, thin over PublishingService (core.publishing)."""

from __future__ import annotations

from fastapi import APIRouter, status
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep, UserIdDep
from api.errors import error_responses
from api.schemas import (
    MockupImageView,
    MockupsBody,
    MockupsResponse,
    PublishBody,
    PublishResponse,
    StoreProductView,
    VariantsResponse,
    VariantView,
)
from core.errors import JobNotReady
from core.publishing.store import MockupTask, StoreProduct

router = APIRouter(prefix="/api/generate", tags=["publishing"])

NOT_PUBLISHABLE = ("The job has not completed, its print file fails preflight, its product has no Printful product, "
                   "Printful is not set up, or storage is not reachable from Printful (`detail` says which)")
PRINTFUL_DOWN = "Printful is unreachable or refused the call (`detail` passes its reason on)"


def _mockups_view(job_id: str, task: MockupTask) -> MockupsResponse:
    return MockupsResponse(job_id=job_id, status=task.public_status, error=task.error,
                           mockups=[MockupImageView(variant_ids=m.variant_ids, url=m.url) for m in task.mockups])


def _product_view(product: StoreProduct) -> StoreProductView:
    assert product.sync_product_id is not None and product.product_url is not None
    return StoreProductView(product_id=product.sync_product_id, url=product.product_url, name=product.name,
                            variant_ids=product.variant_ids, retail_price=product.retail_price)


@router.get("/{job_id}/variants", response_model=VariantsResponse,
            responses=error_responses(401, 404, 409, 429, 503, described={409: NOT_PUBLISHABLE, 503: PRINTFUL_DOWN}))
async def variants(job_id: str, services: ServicesDep, user_id: UserIdDep) -> VariantsResponse:
    """The colours and sizes the job's product comes in at Printful, a suggested retail price,
    and the store product already made from this job, if any."""
    publishing = services.publishing
    offered = await run_in_threadpool(publishing.variants_for, user_id, job_id)
    published = publishing.published(user_id, [job_id]).get(job_id)
    default = [offered.default_variant_id] if offered.default_variant_id else [offered.variants[0].variant_id]
    return VariantsResponse(
        job_id=job_id, printful_product_id=offered.printful_product_id,
        variants=[VariantView(variant_id=v.variant_id, color=v.color, color_code=v.color_code, size=v.size,
                              price=v.price, in_stock=v.in_stock) for v in offered.variants],
        default_variant_ids=default, suggested_retail_price=offered.suggested_retail_price(default),
        published=_product_view(published) if published else None,
    )


@router.post("/{job_id}/mockups", response_model=MockupsResponse, status_code=status.HTTP_202_ACCEPTED,
             responses=error_responses(400, 401, 404, 409, 413, 422, 429, 503, described={
                 409: NOT_PUBLISHABLE, 422: "A variant that is not the product's", 503: PRINTFUL_DOWN}))
async def request_mockups(job_id: str, services: ServicesDep, user_id: UserIdDep,
                          body: MockupsBody | None = None) -> MockupsResponse:
    """Queue Printful's official mockups of the job's print file; poll GET for them."""
    variant_ids = body.variant_ids if body else None
    task = await run_in_threadpool(services.publishing.request_mockups, user_id, job_id, variant_ids)
    return _mockups_view(job_id, task)


@router.get("/{job_id}/mockups", response_model=MockupsResponse,
            responses=error_responses(401, 404, 409, 429, described={409: "No mockups were requested for this job yet"}))
def get_mockups(job_id: str, services: ServicesDep, user_id: UserIdDep) -> MockupsResponse:
    """The newest mockup request's state: pending, completed (with the images) or failed (with Printful's reason)."""
    task = services.publishing.mockups(user_id, job_id)
    if task is None:
        raise JobNotReady(f"job {job_id} has no mockup request yet: POST to this address first")
    return _mockups_view(job_id, task)


@router.post("/{job_id}/publish", response_model=PublishResponse,
             responses=error_responses(400, 401, 404, 409, 413, 422, 429, 503, described={
                 409: NOT_PUBLISHABLE, 422: "A variant that is not the product's, or a price that is not valid",
                 503: PRINTFUL_DOWN}))
async def publish(job_id: str, body: PublishBody, services: ServicesDep, user_id: UserIdDep) -> PublishResponse:
    """Create the store product (once per job and variant set: a repeat answers the same product)."""
    product = await run_in_threadpool(services.publishing.publish, user_id, job_id, body.variant_ids,
                                      body.retail_price)
    view = _product_view(product)
    return PublishResponse(job_id=job_id, product_id=view.product_id, url=view.url, name=view.name,
                           variant_ids=view.variant_ids, retail_price=view.retail_price)
