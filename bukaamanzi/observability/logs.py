"""Logging set-up: the readable one-line format (the default, for `make run`) or one JSON object a line for a log
collector (LOG_FORMAT=json). Both go through the standard library's logging, so every existing
`logging.getLogger(__name__)` call is covered; the JSON lines carry the context variables (the request id, a
task's id) that structlog keeps."""

from __future__ import annotations

from typing import Any

import structlog

FORMATS = ("plain", "json")

# Shared by stdlib records (foreign_pre_chain) and structlog's own loggers.
_PRE_CHAIN: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.ExtraAdder(),
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """The LOGGING setting for `log_format` ("plain" or "json")."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "json": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": _PRE_CHAIN,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    # Tracebacks as data, without each frame's local variables (passwords, tokens, personal data).
                    structlog.processors.ExceptionRenderer(
                        structlog.tracebacks.ExceptionDictTransformer(show_locals=False)),
                    structlog.processors.JSONRenderer(),
                ],
            },
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": log_format}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"daphne": {"level": "WARNING"}, "django.channels.server": {"level": "WARNING"}},
    }


def configure_structlog() -> None:
    """structlog's own loggers hand their events to the standard library, so they come out in the same format."""
    structlog.configure(
        processors=[*_PRE_CHAIN, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
