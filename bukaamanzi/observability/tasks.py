"""The request id follows a request into the django-q2 tasks it queues.

django-q2 sends `pre_enqueue` with the task package before signing it, and `pre_execute` /
`post_execute_in_worker` in the worker around the call, so the id travels inside the package whatever helper
queued it (alerts, ingestion, realtime): no wrapper for each `async_task` call. A task queued outside a request
(a schedule) gets no request id; every task's lines carry its own `task_id` either way.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextvars import Token
from typing import Any

import structlog
from django_q.signals import post_execute_in_worker, pre_enqueue, pre_execute

from bukaamanzi.observability.requestid import current_request_id

logger = logging.getLogger(__name__)
TASK_KEY = "request_id"  # in django-q2's task package, beside its own keys
# Task id -> what to reset after it: the package itself is pickled, and context tokens are not picklable.
_bound: dict[str, Mapping[str, Token[Any]]] = {}


def carry_request_id(sender: object, task: dict[str, Any], **kwargs: object) -> None:
    request_id = current_request_id()
    if request_id:
        task[TASK_KEY] = request_id


def bind_task_context(sender: object, task: dict[str, Any], **kwargs: object) -> None:
    context: dict[str, Any] = {"task_id": task.get("id"), "task_name": task.get("name")}
    if task.get(TASK_KEY):
        context["request_id"] = task[TASK_KEY]
    _bound[str(task.get("id"))] = structlog.contextvars.bind_contextvars(**context)
    if "request_id" in context:
        # The line that ties django-q2's task id to the request, in plain logs too.
        logger.info("Task %s (%s) runs for request %s", task.get("name"), task.get("id"), context["request_id"])


def unbind_task_context(sender: object, task: dict[str, Any], **kwargs: object) -> None:
    tokens = _bound.pop(str(task.get("id")), None)
    if tokens:
        structlog.contextvars.reset_contextvars(**tokens)


def connect() -> None:
    pre_enqueue.connect(carry_request_id, dispatch_uid="observability.carry_request_id")
    pre_execute.connect(bind_task_context, dispatch_uid="observability.bind_task_context")
    post_execute_in_worker.connect(unbind_task_context, dispatch_uid="observability.unbind_task_context")
