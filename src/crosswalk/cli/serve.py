"""``crosswalk serve``: the REST API (FastAPI, uvicorn) over one hub object.

The host operator's command: it reads no person data itself (each request is its
account's), and its start and stop are audited as ``operator:<login>``.

The service process owns the hub: it opens it for writing and keeps it open, writes it
only through its background jobs (uploads, linkage runs) and review decisions, and while
it runs leaves a note beside it (``<hub>.service``: its process and address) so that a
CLI command meeting the hub's lock says which service holds it and how to submit
through it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from crosswalk import settings
from crosswalk.cli.access import Control
from crosswalk.cli.ingest import HubOption
from crosswalk.errors import ConfigError


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    hub: HubOption = None,
    control: Control = None,
) -> None:
    """Serve the REST API over the hub and the control plane.

    Example: crosswalk serve --hub hub.duckdb --port 8000
    """
    import uvicorn

    from crosswalk.accounts import operator
    from crosswalk.hub import Hub
    from crosswalk.service import create_app

    # X-Forwarded-For and -Proto are believed only from the proxies the operator names:
    # otherwise any client could choose the address that sign-in limits and audits.
    proxies = settings.SERVICE_FORWARDED_ALLOW_IPS.value().strip()
    access_log = settings.SERVICE_ACCESS_LOG.value().strip().lower()
    if access_log not in ("on", "off"):
        raise ConfigError(f"{settings.SERVICE_ACCESS_LOG.env} is on or off, not {access_log!r}")
    with Hub(hub, control, writable=True) as the_hub:
        with the_hub.read():  # take the hub now: a command holding it stops the start here
            pass
        app = create_app(the_hub, address=f"http://{host}:{port}")
        where = {
            "host": host,
            "port": port,
            "hub": settings.HUB.value(None if hub is None else str(hub)),
        }
        operator.record(the_hub.audit, "serve", state="started", **where)
        try:
            uvicorn.run(
                app,
                host=host,
                port=port,
                log_level="info",
                # Every request is in the audit log; a line per request on the output
                # too costs the event loop time on every request, so only when asked.
                access_log=access_log == "on",
                server_header=False,
                proxy_headers=bool(proxies),
                forwarded_allow_ips=proxies or None,
                timeout_keep_alive=5,
            )
        finally:
            operator.record(the_hub.audit, "serve", state="stopped", **where)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
