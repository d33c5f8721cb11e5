"""YAML configuration files (mappings, the agreement) validated with Pydantic, with every
problem reported together and located by file, line and key.

A configuration file is small: one larger than ``MAX_CHARS``, or whose aliases expand to
more than ``MAX_NODES`` values (a "billion laughs" file), is refused before it is built,
and a key given twice in one mapping is an error (YAML would keep the last silently)."""

from __future__ import annotations

from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from crosswalk.errors import CrosswalkError, Problem

Model = TypeVar("Model", bound=BaseModel)

MAX_CHARS = 4 << 20
MAX_NODES = 100_000


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


def _expanded(node: yaml.Node, memo: dict[int, int]) -> int:
    """How many values ``node`` stands for once every alias is expanded (counted, not built)."""
    done = memo.get(id(node))
    if done is not None:
        return done
    size = 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            size += _expanded(key, memo) + _expanded(value, memo)
            if size > MAX_NODES:
                break
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            size += _expanded(item, memo)
            if size > MAX_NODES:
                break
    memo[id(node)] = size
    return size


def _duplicates(node: yaml.Node, path: tuple[Any, ...], source: str) -> list[Problem]:
    problems = []
    if isinstance(node, yaml.MappingNode):
        first: dict[Any, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if key.value in first:
                problems.append(
                    Problem(
                        f"key {key.value!r} is given twice (first on line {first[key.value]})",
                        file=source,
                        row=line,
                        field=".".join(str(p) for p in (*path, key.value)),
                        rule="duplicate_key",
                    )
                )
            first.setdefault(key.value, line)
            problems += _duplicates(value, (*path, key.value), source)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            problems += _duplicates(item, (*path, i), source)
    return problems


def parse(text: str, source: str, model: type[Model], error: type[CrosswalkError]) -> Model:
    """Parse YAML ``text`` into ``model``; raise ``error`` listing every problem with its line."""
    if len(text) > MAX_CHARS:
        raise error(
            f"{source} is too large for a configuration file",
            [Problem(f"{len(text):,} characters; at most {MAX_CHARS:,}", file=source)],
        )
    try:
        node = yaml.compose(text, Loader=_Loader)
        if node is not None and _expanded(node, {}) > MAX_NODES:
            raise error(
                f"{source} is refused",
                [
                    Problem(
                        f"its aliases expand to more than {MAX_NODES:,} values"
                        " (an alias bomb?); write the values out",
                        file=source,
                        rule="alias_bomb",
                    )
                ],
            )
        if node is not None:
            duplicates = _duplicates(node, (), source)
            if duplicates:
                raise error(f"{source} has duplicate keys", duplicates)
        data = yaml.load(text, Loader=_Loader)
    except RecursionError:
        raise error(
            f"{source} is refused", [Problem("it is nested too deeply", file=source)]
        ) from None
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
