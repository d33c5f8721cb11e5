"""Credentials out of every message a person or a log may read.

A setting such as a Spark master URL (``k8s://https://user:password@api:6443``) or a
database URL can carry a password. Errors and log lines name such settings to say what
failed; ``credentials`` takes the secret out first, and ``RedactingFilter`` does the
same for every record of a logger, its traceback included.
"""

from __future__ import annotations

import logging
import re

# scheme://user:password@host, scheme://token@host: the user information of a URL.
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<info>[^\s/@'\"<>]+)@")
# ?password=..., &token=...: a secret carried in a query string or a key=value setting.
_SECRET_PARAM = re.compile(
    r"(?P<key>\b[\w.-]*(?:password|passwd|secret|token|access[._-]?key|api[._-]?key)"
    r"[\w.-]*=)(?P<value>[^\s&;'\",]+)",
    re.IGNORECASE,
)
HIDDEN = "***"


def credentials(text: str) -> str:
    """``text`` with the user information of every URL and the value of every secret
    setting replaced by ``***``.

    Example:
        >>> credentials("cannot start Spark at k8s://https://ops:hunter2@api:6443")
        'cannot start Spark at k8s://https://***@api:6443'
        >>> credentials("spark.hadoop.fs.s3a.secret.key=abc spark.driver.memory=8g")
        'spark.hadoop.fs.s3a.secret.key=*** spark.driver.memory=8g'
    """
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{HIDDEN}@", text)
    return _SECRET_PARAM.sub(lambda m: f"{m['key']}{HIDDEN}", text)


class RedactingFilter(logging.Filter):
    """Takes credentials out of a record's message and traceback before any handler
    writes it (``credentials``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = credentials(record.getMessage())
        record.args = None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = credentials(text)
            record.exc_info = None
        if record.stack_info:
            record.stack_info = credentials(record.stack_info)
        return True


def logger(name: str) -> logging.Logger:
    """The logger ``name``, with ``RedactingFilter`` on it (once)."""
    log = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in log.filters):
        log.addFilter(RedactingFilter())
    return log
