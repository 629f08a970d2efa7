"""`change_log_rewrite`: removed words leave one entity's earlier rows; other entities, other keys and the sent
marks stay as they were."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point

from changelog.models import ChangeSource, ChangeType, DataChangeLog, EntityType
from changelog.services import change_log_record, change_log_rewrite

pytestmark = pytest.mark.django_db


def record(entity_id: int, old: dict[str, object], new: dict[str, object]) -> DataChangeLog:
    return change_log_record(entity_type=EntityType.REPORT, entity_id=entity_id, change_type=ChangeType.UPDATED,
                             source=ChangeSource.COMMUNITY_REPORT, old_values=old, new_values=new)


def test_only_the_keys_a_row_has_are_replaced_in_the_entitys_rows() -> None:
    created = record(1, {}, {"title": "Call 082 555 0199", "location": Point(18.43, -33.93), "state": "open"})
    state = record(1, {"title": "Call 082 555 0199", "state": "open"}, {"title": "Call 082 555 0199", "state": "fixed"})
    quiet = record(1, {"affected_count": 1}, {"affected_count": 2})
    other = record(2, {}, {"title": "Call 082 555 0199"})
    DataChangeLog.objects.update(notification_sent=True)
    changed = change_log_rewrite(entity_type=EntityType.REPORT, entity_id=1,
                                 values={"title": "Burst pipe", "location": Point(18.5, -33.9)})
    assert changed == 2
    for row in (created, state, quiet, other):
        row.refresh_from_db()
    assert created.new_values == {"title": "Burst pipe", "location": [18.5, -33.9], "state": "open"}
    assert state.old_values == {"title": "Burst pipe", "state": "open"}
    assert state.new_values == {"title": "Burst pipe", "state": "fixed"}
    assert state.field_changes == ["state"]
    assert quiet.new_values == {"affected_count": 2}
    assert other.new_values == {"title": "Call 082 555 0199"}  # another report's history is its own
    assert DataChangeLog.objects.filter(notification_sent=False).count() == 0  # nothing is sent again


def test_match_narrows_the_rewrite_to_rows_about_one_update() -> None:
    first = record(1, {}, {"update_id": 7, "update_text": "My number is 082 555 0199"})
    second = record(1, {}, {"update_id": 8, "update_text": "Still leaking"})
    assert change_log_rewrite(entity_type=EntityType.REPORT, entity_id=1, values={"update_text": "Still there"},
                              match={"update_id": 7}) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.new_values["update_text"] == "Still there" and second.new_values["update_text"] == "Still leaking"


def test_a_reporter_who_hides_their_name_leaves_it_in_no_public_row() -> None:
    from reports.lifecycle import update_add
    from reports.reporter import report_hide_name
    from reports.services import report_submit

    report = report_submit(title="Burst pipe", description="Water in the street", report_type="issue", lng=18.42,
                           lat=-33.92, name="Nomvula Dube", email="n@example.org")
    update_add(report=report, text="Still leaking", by_reporter=True)
    report_hide_name(report=report)
    rows = list(DataChangeLog.objects.for_entity(EntityType.REPORT, report.pk))
    assert len(rows) == 3 and "Nomvula" not in repr([(row.old_values, row.new_values) for row in rows])
