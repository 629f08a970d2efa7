"""Alerts end to end against a real SMTP server: sign up (page without JavaScript, and the API), confirm from the
received email's link, make changes through the services that make them for real, run `send_alerts`, and find
exactly the expected emails, with unsubscribe links and headers that work."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from alerts.models import Alert, AlertItem, Delivery
from projects.services import project_upsert_from_source
from reports.services import report_submit
from tests.alerts.smtp import Mailbox, html_of, links, text_of
from tests.factories import ProjectFactory, municipality

pytestmark = pytest.mark.django_db

CAPE_TOWN = (-33.9249, 18.4241)
DURBAN = (-29.8587, 31.0218)


def send_alerts() -> str:
    from io import StringIO

    out = StringIO()
    call_command("send_alerts", stdout=out)
    return out.getvalue()


def confirm_from_email(client: Client, mailbox: Mailbox, address: str) -> None:
    """Follow the confirmation link of the newest email to `address`, and press its button."""
    message = mailbox.to(address)[-1]
    (link,) = links(message, "confirm")
    page = client.get(link)
    assert page.status_code == 200 and b"Yes, start my alert" in page.content
    done = client.post(link, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value}
                       if "csrftoken" in client.cookies else {})
    assert done.status_code == 200 and b"Your alert has started" in done.content


def later(minutes: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(minutes=minutes)


def test_page_sign_up_without_javascript_confirms_and_sends_only_after_confirmation(mailbox: Mailbox) -> None:
    project = ProjectFactory(name="Khayelitsha bulk water main")
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/alerts/?project={project.pk}")
    assert page.status_code == 200
    assert f'value="{project.pk}"' in page.content.decode()
    token = page.cookies["csrftoken"].value
    sent = client.post("/alerts/", {"kind": "project", "project": str(project.pk), "email": "Thandi@Example.org",
                                    "frequency": "immediate", "csrfmiddlewaretoken": token})
    assert sent.status_code == 302 and sent["Location"] == "/alerts/sent/"

    _change_progress(project, "40")  # before confirmation: never sent
    send_alerts()
    (confirmation,) = mailbox.to("thandi@example.org")
    assert "Please confirm your alert" in confirmation["Subject"]
    assert "Khayelitsha bulk water main" in text_of(confirmation)
    assert confirmation["List-Unsubscribe"].strip().startswith("<https://bukaamanzi.example/alerts/unsubscribe/")
    assert confirmation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    confirm_from_email(client, mailbox, "thandi@example.org")
    _change_progress(project, "55")
    send_alerts()
    messages = mailbox.to("thandi@example.org")
    assert len(messages) == 2
    alert_email = messages[1]
    body = text_of(alert_email)
    assert "40%" in body and "55%" in body, body  # old → new
    assert "40%" not in body.split("55%")[1]
    assert "Source:" in body and "https://bukaamanzi.example/projects/" in body
    assert "Khayelitsha bulk water main" in html_of(alert_email)
    assert alert_email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert alert_email["Message-ID"]

    send_alerts()
    assert len(mailbox.to("thandi@example.org")) == 2  # nothing new, nothing again


def _change_progress(project: object, progress: str) -> None:
    """The change an ingestion run makes: the source's new value through the upsert service."""
    from django.db import transaction

    with transaction.atomic():
        project_upsert_from_source(source=project.source, external_id=project.external_id,  # type: ignore[attr-defined]
                                   values={"progress_percentage": Decimal(progress)})


def _api_sign_up(client: Client, **body: object) -> dict:
    response = client.post("/api/v1/alerts", body, content_type="application/json")
    assert response.status_code == 202, response.content
    return response.json()


def test_api_area_alert_gets_reports_inside_and_not_outside_and_one_click_unsubscribe_stops_it(
        mailbox: Mailbox) -> None:
    client = Client()
    _api_sign_up(client, email="sipho@example.org", kind="area", lat=CAPE_TOWN[0], lng=CAPE_TOWN[1], radius_km=5)
    send_alerts()
    confirm_from_email(client, mailbox, "sipho@example.org")
    known = report_submit(title="Earlier report", description="x", report_type="issue", lng=18.5, lat=-33.9,
                          email="known@example.org")
    known.created_at = timezone.now() - dt.timedelta(days=3)
    known.save(update_fields=["created_at"])
    inside = report_submit(title="Leaking standpipe in Bo-Kaap", description="Water runs day and night.",
                           report_type="issue", lng=18.415, lat=-33.92, email="known@example.org")
    report_submit(title="Burst main in Durban", description="Far away.", report_type="issue",
                  lng=DURBAN[1], lat=DURBAN[0], email="known@example.org")
    send_alerts()
    messages = mailbox.to("sipho@example.org")
    assert len(messages) == 2
    body = text_of(messages[1])
    assert "Leaking standpipe in Bo-Kaap" in body and f"/reports/{inside.pk}/" in body
    assert "Durban" not in body and "Earlier report" not in body

    # RFC 8058: the mail program POSTs to the List-Unsubscribe URL, without a CSRF token or a session.
    unsubscribe = messages[1]["List-Unsubscribe"].strip().strip("<>").replace("https://bukaamanzi.example", "")
    response = Client(enforce_csrf_checks=True).post(unsubscribe, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    report_submit(title="Another leak in Bo-Kaap", description="Again.", report_type="issue", lng=18.416,
                  lat=-33.921, email="known@example.org")
    with_time_passed = later(10)
    from alerts.delivery import send_alerts_pass

    send_alerts_pass(now=with_time_passed)
    assert len(mailbox.to("sipho@example.org")) == 2


def test_municipality_alert_of_a_district_hears_of_its_local_municipalities(mailbox: Mailbox) -> None:
    district = municipality("DC10")
    local = district.locals.first()
    assert local is not None
    client = Client()
    _api_sign_up(client, email="district@example.org", kind="municipality", municipality=district.code.lower())
    send_alerts()
    confirm_from_email(client, mailbox, "district@example.org")
    project = ProjectFactory(municipality=local, name="Kirkwood sewer pump station")
    _change_progress(project, "70")
    send_alerts()
    body = text_of(mailbox.to("district@example.org")[-1])
    assert "Kirkwood sewer pump station" in body and "70%" in body


def test_asking_again_re_sends_the_confirmation_and_makes_no_second_alert(mailbox: Mailbox) -> None:
    project = ProjectFactory()
    client = Client()
    for _ in range(2):
        _api_sign_up(client, email="twice@example.org", kind="project", project_id=str(project.pk))
    send_alerts()
    assert Alert.objects.filter(subscriber__email="twice@example.org").count() == 1
    assert len(mailbox.to("twice@example.org")) == 2
    confirm_from_email(client, mailbox, "twice@example.org")
    _api_sign_up(client, email="twice@example.org", kind="project", project_id=str(project.pk))
    send_alerts()
    assert "You already follow" in mailbox.to("twice@example.org")[-1]["Subject"]
    assert Alert.objects.filter(subscriber__email="twice@example.org").count() == 1


def test_unconfirmed_sign_ups_expire_after_seven_days_and_their_link_stops_working(mailbox: Mailbox) -> None:
    project = ProjectFactory()
    client = Client()
    _api_sign_up(client, email="late@example.org", kind="project", project_id=str(project.pk))
    send_alerts()
    (link,) = links(mailbox.to("late@example.org")[0], "confirm")
    from alerts.delivery import send_alerts_pass

    Alert.objects.update(created_at=timezone.now() - dt.timedelta(days=8))
    send_alerts_pass()
    assert not Alert.objects.exists()
    assert client.get(link).status_code == 400


def test_manage_page_lists_an_addresss_alerts_and_drops_one_or_all(mailbox: Mailbox) -> None:
    client = Client()
    project = ProjectFactory(name="Mthatha dam pipeline")
    _api_sign_up(client, email="many@example.org", kind="project", project_id=str(project.pk))
    _api_sign_up(client, email="many@example.org", kind="municipality", municipality="CPT")
    send_alerts()
    confirm_from_email(client, mailbox, "many@example.org")
    manage = links(mailbox.to("many@example.org")[-1], "manage")[0]
    page = client.get(manage)
    assert page.status_code == 200
    assert "Mthatha dam pipeline" in page.content.decode() and "City of Cape Town" in page.content.decode()
    project_alert = Alert.objects.get(kind="project")
    dropped = client.post(manage, {"alert": [str(project_alert.pk)]})
    assert "1 alert stopped." in dropped.content.decode()
    assert list(Alert.objects.filter(unsubscribed_at__isnull=True).values_list("kind", flat=True)) == ["municipality"]
    client.post(manage, {"all": "1"})
    assert not Alert.objects.filter(unsubscribed_at__isnull=True).exists()


def test_a_paused_address_gets_nothing_and_the_items_wait_for_no_one(mailbox: Mailbox) -> None:
    from alerts.models import Subscriber
    from alerts.services import subscriber_pause

    project = ProjectFactory()
    client = Client()
    _api_sign_up(client, email="paused@example.org", kind="project", project_id=str(project.pk))
    send_alerts()
    confirm_from_email(client, mailbox, "paused@example.org")
    subscriber_pause(subscribers=list(Subscriber.objects.all()), moderator="staff")
    _change_progress(project, "90")
    send_alerts()
    assert len(mailbox.to("paused@example.org")) == 1
    assert not Delivery.objects.filter(kind="alerts").exists()
    assert AlertItem.objects.count() == 0
