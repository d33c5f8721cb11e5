"""Background jobs: long writes of the hub (ingest of an upload, a linkage run) run by
the process that owns it, one at a time, with status and progress in the control plane."""

from crosswalk.jobs.runner import STATUSES, Job, Jobs

__all__ = ["STATUSES", "Job", "Jobs"]
