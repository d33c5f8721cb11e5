"""The web UI: server-rendered pages over the same library functions as the API, so the
same gate decides and audits every read (``mount`` adds it to the service)."""

from crosswalk.web.app import mount

__all__ = ["mount"]
