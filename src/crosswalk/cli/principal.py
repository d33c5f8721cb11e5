"""Who asks and why: the options every read takes, or a profile file.

Principals are self-asserted on the command line for now: the service will take them
from signed-in accounts. See docs/agreement.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel, ConfigDict

from crosswalk import yamlfile
from crosswalk.agreement import Principal
from crosswalk.errors import ConfigError

User = Annotated[str | None, typer.Option(help="Who is asking.")]
Agency = Annotated[str | None, typer.Option(help="The asker's agency (party code).")]
Role = Annotated[str | None, typer.Option(help="The asker's role, e.g. caseworker.")]
Purpose = Annotated[str | None, typer.Option(help="The purpose, e.g. care_coordination.")]
ProfileFile = Annotated[
    Path | None, typer.Option("--profile", help="YAML file with user, agency, role, purpose.")
]
Control = Annotated[str | None, typer.Option("--control", help="Control-plane SQLAlchemy URL.")]


class Profile(BaseModel):
    """A profile file: any of user, agency, role and purpose, and nothing else."""

    model_config = ConfigDict(extra="forbid")

    user: str | None = None
    agency: str | None = None
    role: str | None = None
    purpose: str | None = None


def principal_from(
    user: str | None,
    agency: str | None,
    role: str | None,
    purpose: str | None,
    profile: Path | None,
) -> tuple[Principal, str]:
    """The principal and purpose from flags, a profile file, or both (flags win).

    A profile with any other key is refused, naming the key and its line: a misspelt
    ``purpose`` must not leave a read to an unintended default."""
    values: dict[str, str] = {}
    if profile is not None:
        try:
            text = profile.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"cannot read profile {profile}: {e.strerror}") from None
        parsed = yamlfile.parse(text, str(profile), Profile, ConfigError)
        values = {k: v for k, v in parsed.model_dump().items() if v is not None}
    given = {"user": user, "agency": agency, "role": role, "purpose": purpose}
    values.update({k: v for k, v in given.items() if v is not None})
    missing = [k for k in given if not values.get(k)]
    if missing:
        raise ConfigError(
            f"every read names who asks and why: give --{' --'.join(missing)} (or --profile)"
        )
    return Principal(values["user"], values["agency"], values["role"]), values["purpose"]
