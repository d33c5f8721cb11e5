"""The multi-user service: FastAPI over one hub object (``create_app``)."""

from crosswalk.service.app import create_app

__all__ = ["create_app"]
