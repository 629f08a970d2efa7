"""Deliveries from the change log to real receivers: signed, each change once, retried after a timeout, a failing
receiver's subscription disabled after the window (its owner emailed), failed ingestion runs, replays, filters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from changelog.models import AdminAction, DataChangeLog
from ingestion.models import RunStatus
from ingestion.services import ingestion_run_now
from municipalities.models import Municipality
from projects.services import project_upsert_from_source
from reports.lifecycle import report_set_state
from reports.services import report_submit
from tests.alerts.smtp import SmtpServer
from tests.webhooks.receivers import Receiver
from webhooks import delivery, fanout, services
from webhooks.models import Attempt, Delivery, DeliveryStatus, Event, Subscription
from webhooks.tasks import webhooks_pass

ALL = ["project.created", "project.updated", "report.created", "report.updated", "report.state_changed",
       "ingestion.failed"]


def new_project(external_id: str, code: str = "CPT", progress: str = "10") -> str:
    with transaction.atomic():
        outcome = project_upsert_from_source(source="municipal_money", external_id=external_id, values={
            "name": f"Pipeline {external_id}", "municipality": Municipality.objects.get(code=code),
            "progress_percentage": Decimal(progress)})
    return str(outcome.project.pk)


def set_progress(external_id: str, progress: str) -> None:
    with transaction.atomic():
        project_upsert_from_source(source="municipal_money", external_id=external_id,
                                   values={"progress_percentage": Decimal(progress)})


def subscribe(target: Receiver, event_types: list[str] | None = None, **fields: str) -> Subscription:
    subscription, target.secret = services.subscription_create(
        fields=services.SubscriptionFields(url=target.url, event_types=event_types or ALL, **fields),
        created_by="root", owner_email="owner@example.org", reason="test")
    return subscription


@pytest.mark.django_db
def test_every_change_reaches_a_good_receiver_once_signed_with_its_change_log_id(receiver):
    good = receiver()
    subscribe(good)
    new_project("ONE-1")
    for progress in ("20", "30"):
        set_progress("ONE-1", progress)
    report = report_submit(title="Leak", description="Water running down the street", report_type="issue",
                           lng=18.42, lat=-33.92, email="", language="en")
    report_set_state(reports=[report], state="in_progress", moderator="thandeka", reason="Crew on site")

    result = webhooks_pass()
    again = webhooks_pass()  # nothing is owed twice

    changes = set(DataChangeLog.objects.values_list("pk", flat=True))
    events = Event.objects.filter(change__isnull=False)
    assert result["sent"] == events.count() == len(good.received) and again["sent"] == 0
    assert good.bad_signatures == 0
    assert set(good.change_ids()) <= changes and all(n == 1 for n in good.change_ids().values())
    assert all(n == 1 for n in good.webhook_ids().values())
    types = good.types()
    assert types.count("project.created") == 1 and types.count("project.updated") >= 2
    assert "report.created" in types and "report.state_changed" in types
    first = good.received[0]
    assert first.headers["webhook-signature"].startswith("v1,")
    assert first.headers["content-type"] == "application/json"
    assert first.body["data"]["entity_type"] in {"project", "budget", "report"}
    assert Attempt.objects.filter(succeeded=True).count() == len(good.received)
    assert all(a.latency_ms >= 0 and a.status_code == 204 for a in Attempt.objects.all())


@pytest.mark.django_db
def test_a_subscription_hears_only_its_event_types_and_area(receiver):
    cape_town, gauteng, reports = receiver(), receiver(), receiver()
    subscribe(cape_town, ["project.created"], municipality_code="cpt")
    subscribe(gauteng, ["project.created", "project.updated"], province="GT")
    subscribe(reports, ["report.created"])
    new_project("AREA-1", code="CPT")
    new_project("AREA-2", code="JHB")

    webhooks_pass()

    assert [r.body["data"]["municipality_code"] for r in cape_town.received] == ["CPT"]
    assert {r.body["data"]["municipality_code"] for r in gauteng.received} == {"JHB"}
    assert reports.received == []


@pytest.mark.django_db
def test_a_subscription_hears_nothing_from_before_it_was_made(receiver):
    new_project("OLD-1")
    good = receiver()
    subscribe(good)
    set_progress("OLD-1", "50")

    webhooks_pass()

    assert good.types() and "project.created" not in good.types()


@pytest.mark.django_db
def test_a_slow_receiver_times_out_and_is_retried_after_the_first_delay(receiver, settings):
    settings.WEBHOOKS_RETRY_DELAY_SECONDS = [0.2, 300.0]
    slow = receiver(kind="slow", slow_for=1, hold_seconds=1.5)
    subscribe(slow, ["project.created"])
    new_project("SLOW-1")
    fanout.fanout_pending()

    first = delivery.deliveries_send(max_batches=1)
    owed = Delivery.objects.get()
    assert (first.sent, first.failed, owed.status, owed.attempts) == (0, 1, DeliveryStatus.PENDING, 1)
    timed_out = Attempt.objects.get()
    assert timed_out.status_code is None and "Timeout" in timed_out.error and timed_out.latency_ms >= 400

    result = webhooks_pass()  # waits for the retry due in 0.2 s, as the worker does

    owed.refresh_from_db()
    assert (result["sent"], owed.status, owed.attempts) == (1, DeliveryStatus.SUCCEEDED, 2)
    assert [r.body["type"] for r in slow.received] == ["project.created"]
    assert list(Attempt.objects.order_by("pk").values_list("succeeded", flat=True)) == [False, True]


@pytest.mark.django_db
def test_retries_follow_the_delays_then_the_delivery_fails(receiver, settings):
    failing = receiver(kind="failing")
    subscribe(failing, ["project.created"])
    new_project("FAIL-1")
    fanout.fanout_pending()
    owed = Delivery.objects.get()
    gaps = []
    for _attempt in range(7):
        before = timezone.now()
        delivery.deliveries_send()
        owed.refresh_from_db()
        if owed.next_attempt_at:
            gaps.append(round((owed.next_attempt_at - before).total_seconds()))
            Delivery.objects.filter(pk=owed.pk).update(next_attempt_at=timezone.now())

    assert gaps == [5, 300, 1800, 7200, 18000, 36000]
    assert (owed.status, owed.attempts, failing.requests) == (DeliveryStatus.FAILED, 7, 7)
    assert Attempt.objects.filter(status_code=500, response_excerpt="broken on purpose").count() == 7


@pytest.mark.django_db
def test_a_failing_receiver_is_disabled_after_the_window_and_its_owner_is_emailed(receiver, settings):
    smtp = SmtpServer()
    smtp.start()
    try:
        settings.EMAIL_URL = smtp.url
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.WEBHOOKS_DISABLE_AFTER, settings.WEBHOOKS_DISABLE_AFTER_SECONDS = "1s", 1.0
        settings.WEBHOOKS_RETRY_DELAY_SECONDS = [300.0]  # the pass must not wait for a retry past the window
        failing = receiver(kind="failing")
        subscription = subscribe(failing, ["project.created", "project.updated"])
        new_project("DOWN-1")
        webhooks_pass()
        subscription.refresh_from_db()
        assert subscription.failing_since is not None and subscription.is_active  # inside the window

        Subscription.objects.filter(pk=subscription.pk).update(
            failing_since=timezone.now() - dt.timedelta(seconds=2))
        set_progress("DOWN-1", "60")
        webhooks_pass()

        subscription.refresh_from_db()
        assert not subscription.is_active and "HTTP 500" in subscription.disabled_reason
        [mail] = smtp.mailbox.to("owner@example.org")
        assert "disabled" in mail["Subject"]
        requests_then = failing.requests
        set_progress("DOWN-1", "70")
        webhooks_pass()
        assert failing.requests == requests_then  # nothing more is sent to a disabled subscription
    finally:
        smtp.stop()


@pytest.mark.django_db
def test_a_success_ends_the_failing_window(receiver):
    slow = receiver(kind="slow", slow_for=1, hold_seconds=1.5)
    subscription = subscribe(slow, ["project.created"])
    new_project("WIN-1")
    fanout.fanout_pending()
    delivery.deliveries_send()
    subscription.refresh_from_db()
    assert subscription.failing_since is not None

    Delivery.objects.update(next_attempt_at=timezone.now())
    delivery.deliveries_send()

    subscription.refresh_from_db()
    assert subscription.failing_since is None


@pytest.mark.django_db
def test_a_failed_ingestion_run_is_an_event(receiver, tmp_path: Path):
    good = receiver()
    subscribe(good, ["ingestion.failed"], municipality_code="CPT")  # area filters do not apply to a source
    garbage = tmp_path / "projects.json"
    garbage.write_text("this is not the Treasury's JSON")
    run = ingestion_run_now(source="municipal_money", from_path=garbage)
    assert run.status == RunStatus.FAILED

    webhooks_pass()
    webhooks_pass()

    [received] = good.received
    assert received.body["type"] == "ingestion.failed"
    assert received.body["data"]["run_id"] == run.pk and received.body["data"]["source"] == "municipal_money"


@pytest.mark.django_db
def test_staff_replay_sends_the_same_message_again_and_is_recorded(receiver):
    good = receiver()
    subscribe(good, ["project.created"])
    new_project("REPLAY-1")
    webhooks_pass()
    owed = Delivery.objects.get()

    services.delivery_replay(delivery=owed, moderator="thandeka", reason="The receiver lost it")
    webhooks_pass()

    assert len(good.received) == 2 and len(good.webhook_ids()) == 1  # same webhook-id: the receiver can drop it
    assert AdminAction.objects.filter(target_type="webhook_delivery", action="replay").count() == 1
    assert Attempt.objects.filter(delivery=owed).count() == 2


@pytest.mark.django_db
def test_changes_committed_late_with_lower_ids_are_not_skipped(receiver):
    """A change with a lower id that becomes visible after higher ones were fanned out (PostgreSQL commit order)
    is still fanned out: the floor does not pass changes younger than the grace period."""
    good = receiver()
    subscribe(good, ["project.created", "project.updated"])
    new_project("LATE-1")
    new_project("LATE-2")
    late = DataChangeLog.objects.order_by("pk").filter(entity_type="project").first()
    assert late is not None
    fanout.fanout_pending()
    # Forget the first as if it had not been committed yet when the fan-out ran.
    Event.objects.filter(change=late).delete()
    from webhooks.models import ChangeSeen

    ChangeSeen.objects.filter(change=late).delete()
    fanout.fanout_pending()

    assert Event.objects.filter(change=late).count() == 1


@pytest.mark.django_db
def test_the_webhook_queue_on_metrics_counts_waiting_retrying_and_failed_deliveries(receiver):
    from bukaamanzi.lib.metrics import registered_queues

    failing = receiver(kind="failing")
    subscribe(failing, ["project.created"])
    new_project("QUEUE-1")
    new_project("QUEUE-2")
    fanout.fanout_pending()
    read = registered_queues()["webhook"]  # what /metrics calls at each scrape
    assert (read().waiting, read().retrying, read().given_up) == (2, 0, 0)

    delivery.deliveries_send()  # both fail once and wait for their retry
    assert (read().waiting, read().retrying, read().given_up) == (2, 2, 0)
    assert read().oldest_age_seconds >= 0
    Delivery.objects.update(status=DeliveryStatus.FAILED)  # as after the last retry
    assert (read().waiting, read().retrying, read().given_up) == (0, 0, 2)
