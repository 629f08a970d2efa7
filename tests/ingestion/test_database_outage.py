"""A run closed while the database is away is closed when it answers again, not left `running` (issue 18: the
django-q2 worker now outlives an outage, so a run left `running` would not count as abandoned for a long time)."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection
from django.db.backends.base.base import BaseDatabaseWrapper

from ingestion import services
from ingestion.models import IngestionRun, RunStatus


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
