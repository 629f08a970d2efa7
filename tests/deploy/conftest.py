"""The production layout (deploy/layout.py) started once for the smoke suite: nginx, 2 page processes, 2 socket
processes, the django-q2 cluster, the private PostGIS cluster and Redis. `make prod-check` runs this directory."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from deploy.layout import Layout, nginx_available, running

# Low enough for the smoke suite to reach it; the point is whose address is counted, not the number.
REPORT_LIMIT = 3


@pytest.fixture(scope="session")
def layout() -> Iterator[Layout]:
    if (reason := nginx_available()) is not None:
        pytest.fail(reason)
    with running({"REPORT_RATE_LIMIT": f"{REPORT_LIMIT}/h"}) as started:
        yield started


@pytest.fixture(scope="session")
def project_id(layout: Layout) -> str:
    """A project in the layout's database, made the way the benchmarks make one (the database is the layout's)."""
    return layout.manage("shell", "-c", "from projects.models import Project; print(Project.objects.create("
                         f"source='municipal_money', external_id='SMOKE-{uuid.uuid4().hex[:12]}', "
                         "name='Smoke-test reservoir').pk)").splitlines()[-1]
