"""The data version: asked of the database everywhere, and on PostgreSQL heard from it (LISTEN/NOTIFY) by the page
processes, with every commit (and only commits) moving it, the listener surviving a lost connection, and a
process's own writes never answered from an older version."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client

from projects import dataversion
from projects.dataversion import data_version, pushed_version, queried_version
from projects.models import Project
from projects.services import project_correct
from tests.factories import ProjectFactory
from tests.pushed import wait_for


@pytest.mark.django_db
def test_the_queried_version_moves_with_a_project_write() -> None:
    before = data_version()
    ProjectFactory()
    assert data_version() != before


@pytest.mark.django_db
def test_spatialite_and_a_process_that_never_enabled_it_have_no_pushed_version() -> None:
    dataversion.enable_push()  # a no-op on SpatiaLite; on PostgreSQL it would start listening
    try:
        if connection.vendor != "postgresql":
            assert pushed_version() is None
            assert data_version() == queried_version()
    finally:
        dataversion.disable_push()


def moved_from(version: str | None) -> Callable[[], bool]:
    return lambda: pushed_version() not in (None, version)


def test_every_commit_moves_the_pushed_version_and_a_warm_read_asks_nothing(
        listening: None, django_assert_num_queries: Any) -> None:
    first = pushed_version()
    with django_assert_num_queries(0):
        assert data_version() == first

    project = ProjectFactory()
    wait_for(moved_from(first), "an insert moved the version")
    after_insert = pushed_version()
    assert after_insert is not None and after_insert.startswith("tx")

    project_correct(project=project, values={"name": "Corrected"}, moderator="mod", reason="typo")
    wait_for(moved_from(after_insert), "a correction (project and change log in one transaction) moved it")
    after_correction = pushed_version()

    Project.objects.filter(pk=project.pk).delete()
    wait_for(moved_from(after_correction), "a deletion, which the query cannot see, moved it")


def test_a_rolled_back_write_does_not_move_it(listening: None) -> None:
    before = pushed_version()
    with pytest.raises(RuntimeError), transaction.atomic():
        ProjectFactory()
        raise RuntimeError("rolled back")
    time.sleep(0.5)
    assert pushed_version() == before


def test_one_transaction_of_many_statements_is_one_notification(listening: None) -> None:
    before, heard = pushed_version(), dataversion.notifications_heard()
    with transaction.atomic():
        for _ in range(5):
            ProjectFactory()
    wait_for(moved_from(before), "the transaction moved the version")
    time.sleep(0.3)
    assert dataversion.notifications_heard() == heard + 1


def test_a_lost_connection_falls_back_to_asking_and_the_listener_comes_back(listening: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                       [dataversion.APPLICATION_NAME])
        assert cursor.fetchone() is not None
    wait_for(lambda: pushed_version() is None, "the listener noticed its connection was gone")
    ProjectFactory()  # a write while nobody listens is seen by the query
    assert data_version() == queried_version()
    wait_for(lambda: pushed_version() is not None, "the listener came back", seconds=10)
    assert pushed_version() == queried_version()  # it re-read the version when it came back


def test_after_a_write_request_this_process_asks_the_database(listening: None, client: Client) -> None:
    assert pushed_version() is not None
    client.post("/api/v1/projects/not-a-uuid/affected", data={}, content_type="application/json")
    assert pushed_version() is None  # distrusted for LOCAL_WRITE_SECONDS after the write request
    assert data_version() == queried_version()
    wait_for(lambda: pushed_version() is not None, "trusted again", seconds=dataversion.LOCAL_WRITE_SECONDS + 2)


def test_the_cached_detail_changes_as_soon_as_the_project_does(listening: None, client: Client) -> None:
    before = pushed_version()
    project = ProjectFactory(name="Before")
    wait_for(moved_from(before), "heard the insert")
    url = f"/api/v1/projects/{project.pk}"
    assert json.loads(client.get(url).content)["name"] == "Before"
    assert json.loads(client.get(url).content)["name"] == "Before"  # from the response cache
    version = pushed_version()
    Project.objects.filter(pk=project.pk).update(name="After")  # bypasses every service: only the trigger sees it
    wait_for(moved_from(version), "the update moved the version")
    assert json.loads(client.get(url).content)["name"] == "After"


def test_a_figure_the_worker_warmed_is_found_by_a_page_process_that_listens(listening: None, settings: Any) -> None:
    from insights.cache import cached_figure, local_clear

    settings.CACHES = {**settings.CACHES, "insights": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                                      "LOCATION": "dataversion-test"}}

    computed: list[int] = []

    def compute() -> int:
        computed.append(1)
        return len(computed)

    local_clear()
    pushed = pushed_version()
    assert pushed is not None
    # The worker does not listen: it names the state by the query, and so does the shared cache.
    assert cached_figure("dataversion-test", compute, version=queried_version()) == 1
    version = pushed_version()
    ProjectFactory()  # a commit: the pushed name changes, and so does the queried one
    wait_for(moved_from(version), "heard the insert")
    assert cached_figure("dataversion-test", compute, version=queried_version()) == 2  # warmed for the new data
    local_clear()
    assert cached_figure("dataversion-test", compute) == 2  # the page process: its pushed name, the shared entry
    assert computed == [1, 1]
