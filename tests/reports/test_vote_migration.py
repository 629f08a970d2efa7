"""reports/0006: up votes become "affected too" (same browser hash), down votes are recorded, not dropped."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from bukaamanzi.spatialite import restore_spatial_indexes

BEFORE = [("reports", "0005_moderators_moderate_updates"), ("projects", "0006_project_affected_count")]
AFTER = [("reports", "0006_affected_too_replaces_votes")]


@pytest.mark.django_db(transaction=True)
def test_up_votes_become_affected_and_down_votes_are_kept_in_the_moderation_log() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Report, ReportVote = old.get_model("reports", "Report"), old.get_model("reports", "ReportVote")
    report = Report.objects.create(title="Leak", description="d", location="SRID=4326;POINT(18.4 -33.9)",
                                   report_type="issue", upvotes=2, downvotes=1)
    quiet = Report.objects.create(title="Pipes", description="d", location="SRID=4326;POINT(18.4 -33.9)",
                                  report_type="progress_update")
    for key, direction in (("hash-a", "up"), ("hash-b", "up"), ("hash-c", "down")):
        ReportVote.objects.create(report=report, voter_key=key, direction=direction)
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        Report, Affected = new.get_model("reports", "Report"), new.get_model("reports", "Affected")
        AdminAction = new.get_model("changelog", "AdminAction")
        assert Report.objects.get(pk=report.pk).affected_count == 2
        assert Report.objects.get(pk=quiet.pk).affected_count == 0
        assert sorted(Affected.objects.filter(report_id=report.pk).values_list("browser_key", flat=True)) == [
            "hash-a", "hash-b"]
        retired = AdminAction.objects.get(target_id=str(report.pk), action="retire_down_votes")
        assert retired.metadata == {"downvotes": 1} and retired.admin_name == "system"
        assert not AdminAction.objects.filter(target_id=str(quiet.pk)).exists()
    finally:
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
        # `manage.py migrate` re-creates SpatiaLite indexes that table rebuilds dropped; the executor alone does not.
        restore_spatial_indexes()
