from core.jobs import ALLOWED_TRANSITIONS, JobStatus, can_transition, sources_of


def test_the_happy_path_is_pending_processing_completed():
    assert can_transition(JobStatus.PENDING, JobStatus.PROCESSING)
    assert can_transition(JobStatus.PROCESSING, JobStatus.COMPLETED)


def test_a_job_can_be_canceled_while_pending_or_processing_only():
    assert sources_of(JobStatus.CANCELED) == (JobStatus.PENDING, JobStatus.PROCESSING)


def test_finished_jobs_never_move_again():
    for status in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED):
        assert status.is_terminal
        assert ALLOWED_TRANSITIONS[status] == frozenset()


def test_a_pending_job_cannot_complete_or_fail_without_processing():
    assert not can_transition(JobStatus.PENDING, JobStatus.COMPLETED)
    assert not can_transition(JobStatus.PENDING, JobStatus.FAILED)
