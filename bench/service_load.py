"""The load the service benchmark drives (a locust file: ``locust -f bench/service_load.py``).

``$BENCH_SERVICE_PLAN`` names a JSON file written by ``bench_service``: a bearer token per
simulated client and, for the person lookups, the persons each client asks for, in order.
Every client is its own account and asks one request at a time, the next as soon as the
last is answered (a closed loop, no think time), so the audit log can be checked after
the run: each client's entries must be its requests, all of them, in the order it made
them.

- ``PersonLookup``: a caseworker's ``GET /persons/{id}`` for care coordination, each
  client cycling through its own list of persons.
- ``OverlapAnalyst``: an analyst's ``POST /analytics/overlap`` for program evaluation,
  each client cycling through its own list of periods.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

from locust import FastHttpUser, constant, events, task

_PLAN: dict[str, Any] = json.loads(Path(os.environ["BENCH_SERVICE_PLAN"]).read_text())
_NUMBERS = itertools.count()
# Every answered request, as the clients saw it: the account, milliseconds, whether it
# failed. Written to ``$BENCH_SERVICE_RESULT`` when locust quits, after every client has
# stopped (a request in flight when the time is up is answered first: --stop-timeout).
_DONE: list[tuple[str, float, bool]] = []


@events.request.add_listener
def _answered(response_time: float, exception: Any, context: dict[str, Any], **_: Any) -> None:
    _DONE.append((context.get("user", ""), response_time, exception is not None))


@events.quitting.add_listener
def _write(**_: Any) -> None:
    Path(os.environ["BENCH_SERVICE_RESULT"]).write_text(json.dumps(_DONE))


class _Client(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    kind = ""

    def on_start(self) -> None:
        clients = _PLAN[self.kind]
        mine = clients[next(_NUMBERS) % len(clients)]
        self.account = mine["user"]
        self.headers = {"Authorization": f"Bearer {mine['token']}"}
        self.asks = itertools.cycle(mine["asks"])

    def context(self) -> dict[str, Any]:
        return {"user": self.account}


class PersonLookup(_Client):
    kind = "person"

    @task
    def person(self) -> None:
        enterprise_id = next(self.asks)
        self.client.get(
            f"/persons/{enterprise_id}?purpose=care_coordination",
            headers=self.headers,
            name="/persons/{id}",
        )


class OverlapAnalyst(_Client):
    kind = "overlap"

    @task
    def overlap(self) -> None:
        start, end = next(self.asks)
        self.client.post(
            "/analytics/overlap",
            json={"purpose": "program_evaluation", "filters": {"start": start, "end": end}},
            headers=self.headers,
            name="/analytics/overlap",
        )
