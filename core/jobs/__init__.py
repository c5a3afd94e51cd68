"""Generation jobs: the model, the status machine and the stores."""

from core.jobs.history import HistoryFilter
from core.jobs.models import GpuUsage, Job, NewJob
from core.jobs.status import ALLOWED_TRANSITIONS, JobStatus, can_transition, sources_of
from core.jobs.store import JobStore

__all__ = ["ALLOWED_TRANSITIONS", "GpuUsage", "HistoryFilter", "Job", "JobStatus", "JobStore", "NewJob", "can_transition",
           "sources_of"]
