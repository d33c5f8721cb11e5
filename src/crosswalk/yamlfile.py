"""YAML configuration files (mappings, the agreement) validated with Pydantic, with every
problem reported together and located by file, line and key."""

from __future__ import annotations

from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from crosswalk.errors import CrosswalkError, Problem

Model = TypeVar("Model", bound=BaseModel)


class _Loader(yaml.SafeLoader):
    """A YAML loader of our own, so registering nothing global."""


def _lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[(*path, key.value)] = key.start_mark.line + 1
            _lines(value, (*path, key.value), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), out)


def parse(text: str, source: str, model: type[Model], error: type[CrosswalkError]) -> Model:
    """Parse YAML ``text`` into ``model``; raise ``error`` listing every problem with its line."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise error(
            f"{source} is not valid YAML",
            [Problem(str(e).splitlines()[0], file=source, row=mark.line + 1 if mark else None)],
        ) from None
    if not isinstance(data, dict) or node is None:
        raise error(
            f"{source} is not a YAML mapping", [Problem("expected a YAML mapping", file=source)]
        )
    lines: dict[tuple[Any, ...], int] = {}
    _lines(node, (), lines)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            loc = tuple(err["loc"])
            line = next((lines[loc[:i]] for i in range(len(loc), -1, -1) if loc[:i] in lines), None)
            key = ".".join(str(p) for p in loc) or None
            problems.append(Problem(err["msg"], file=source, row=line, field=key, rule=err["type"]))
        raise error(f"{source} is not valid", problems) from None
