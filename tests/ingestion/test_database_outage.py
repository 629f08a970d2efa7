"""Issue 18, the database under a run: a run closed while the database is away is closed when it answers again,
not left `running` (the django-q2 worker now outlives an outage, so a run left `running` would not count as
abandoned for a long time); and a run whose database session ends mid-run fails with nothing written."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError, connection
from django.db.backends.base.base import BaseDatabaseWrapper

from changelog.models import DataChangeLog
from ingestion import services
from ingestion.models import IngestionRun, RunStatus
from projects.models import Project
from tests.ingestion.pipeline_support import (
    PROJECTS,
    Reply,
    Seen,
    SourceServer,
    fixture_bytes,
    source_server,
    treasury_routes,
)

__all__ = ["source_server"]


# Not in a test transaction: closing a run inside an atomic block cannot retry, and must not.
@pytest.mark.django_db(transaction=True)
def test_closing_a_run_waits_for_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    run = services.ingestion_start_run(source="municipal_money", triggered_by="test", status=RunStatus.RUNNING)
    connect = BaseDatabaseWrapper.ensure_connection
    refused: list[str] = []

    def down_twice(self: BaseDatabaseWrapper) -> None:
        if len(refused) < 2:
            refused.append(self.alias)
            raise OperationalError('connection to server on socket "/var/pg/.s.PGSQL.5432" failed')
        connect(self)

    connection.close()
    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", down_twice)
    monkeypatch.setattr(services.time, "sleep", lambda seconds: None)
    run.status, run.error = RunStatus.FAILED, "Unexpected error: OperationalError: the server went away"
    services._save_closed_run(run)
    monkeypatch.undo()

    assert refused == ["default", "default"]
    assert IngestionRun.objects.get(pk=run.pk).status == RunStatus.FAILED


def _terminate(pid: int) -> None:
    """What a PostgreSQL restart does to a client: the server ends its session ("terminating connection due to
    administrator command"). Asked on a connection of its own, as the server's own shutdown would."""
    import psycopg

    params = connection.get_connection_params()
    with psycopg.connect(dbname=params["dbname"], user=params.get("user"), host=params.get("host"),
                         port=params.get("port"), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_database_session_ends_mid_harvest_fails_writes_nothing_and_the_next_run_loads_it(
    source_server: SourceServer,
) -> None:
    """Issue 18's "no half-written ingestion run", on a real server: the run's database session is ended while
    the run waits for the source's second page (bench/prod/database.py does it by stopping the whole server)."""
    if connection.vendor != "postgresql":
        pytest.skip("ends a PostgreSQL session: runs only with DATABASE_URL=postgis://... (scripts/pg.sh)")
    pages = {"0": fixture_bytes("municipal_money", "projects_page1.json"),
             "5": fixture_bytes("municipal_money", "projects_page2.json")}
    ended: list[int] = []
    pid: int | None = None  # the run's session, once the source has been loaded once

    def projects(seen: Seen) -> Reply:
        offset = seen.query.get("offset", ["0"])[0]
        if offset == "5" and pid is not None and not ended:
            _terminate(pid)
            ended.append(pid)
        return Reply(pages.get(offset, b"[]"))

    treasury_routes(source_server)
    source_server.serve(PROJECTS, projects)
    assert services.ingestion_run_now(source="municipal_money", triggered_by="test").status == RunStatus.SUCCESS
    before = sorted(Project.objects.values_list("external_id", "content_hash", "ward"))
    logged = DataChangeLog.objects.count()

    page = json.loads(pages["0"])
    page["results"][0]["ward_location"] = "Ward 10"
    pages["0"] = json.dumps(page).encode()
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    run = services.ingestion_run_now(source="municipal_money", triggered_by="test")

    assert ended == [pid]
    assert run.status == RunStatus.FAILED
    assert run.error.startswith("The database failed during the run:"), run.error
    assert IngestionRun.objects.get(pk=run.pk).status == RunStatus.FAILED  # closed once it could connect again
    assert sorted(Project.objects.values_list("external_id", "content_hash", "ward")) == before
    assert DataChangeLog.objects.count() == logged

    following = services.ingestion_run_now(source="municipal_money", triggered_by="test")
    assert following.status == RunStatus.SUCCESS, following.error
    assert following.updated_count == 1
    assert "Ward 10" in Project.objects.values_list("ward", flat=True)
    assert DataChangeLog.objects.count() == logged + 1


# Ends the session of whoever writes a project with this ward: the server stops mid-batch, from the run's side.
END_SESSION_ON_WARD = """
CREATE FUNCTION end_session_on_ward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.ward = 'Ward 10' THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER end_session_on_ward BEFORE UPDATE ON projects_project
    FOR EACH ROW EXECUTE FUNCTION end_session_on_ward();
"""


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_database_session_ends_mid_batch_fails_and_is_not_replayed_record_by_record(
    source_server: SourceServer,
) -> None:
    """A lost session in the middle of a batch is not a bad record: the batch is not replayed one record at a time
    on a new session (which would load part of it and report the rest as bad); the run fails with nothing of the
    batch written."""
    if connection.vendor != "postgresql":
        pytest.skip("ends a PostgreSQL session: runs only with DATABASE_URL=postgis://... (scripts/pg.sh)")
    pages = {"0": fixture_bytes("municipal_money", "projects_page1.json"),
             "5": fixture_bytes("municipal_money", "projects_page2.json")}
    treasury_routes(source_server, pages)
    assert services.ingestion_run_now(source="municipal_money", triggered_by="test").status == RunStatus.SUCCESS
    before = sorted(Project.objects.values_list("external_id", "content_hash", "ward"))
    logged = DataChangeLog.objects.count()
    for offset, ward in (("0", "Ward 10"), ("5", "Ward 14")):  # two changed projects in one batch
        page = json.loads(pages[offset])
        page["results"][0]["ward_location"] = ward
        pages[offset] = json.dumps(page).encode()

    with connection.cursor() as cursor:
        cursor.execute(END_SESSION_ON_WARD)
    try:
        run = services.ingestion_run_now(source="municipal_money", triggered_by="test")
    finally:
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER end_session_on_ward ON projects_project; DROP FUNCTION end_session_on_ward()")

    assert run.status == RunStatus.FAILED, (run.status, run.error, run.report)
    assert run.error.startswith("The database failed during the run:"), run.error
    assert run.failed_count == 0 and "errors" not in run.report, run.report
    assert sorted(Project.objects.values_list("external_id", "content_hash", "ward")) == before
    assert DataChangeLog.objects.count() == logged

    following = services.ingestion_run_now(source="municipal_money", triggered_by="test")
    assert following.status == RunStatus.SUCCESS and following.updated_count == 2, following.error
    assert DataChangeLog.objects.count() == logged + 2
