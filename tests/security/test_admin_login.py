"""Admin log-in throttling (django-axes): locked after AXES_FAILURE_LIMIT failures per user name *and* client
address, reset by a success, lifted by staff (`axes_reset_username`) or when the cool-off passes; the address is
the one the rest of the site uses (X-Forwarded-For only through API_TRUSTED_PROXIES)."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core.management import call_command

PASSWORD = "a-long-moderator-passphrase"
HERE, ELSEWHERE = "198.51.100.7", "203.0.113.9"

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator() -> User:
    return User.objects.create_user("moderator", password=PASSWORD, is_staff=True, is_superuser=True)


def log_in(client, password: str, address: str = HERE, username: str = "moderator", **headers: str):  # type: ignore[no-untyped-def]
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password,
                                                       "next": "/admin/"}, REMOTE_ADDR=address, **headers)


def fail(client, times: int, **kwargs: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(times):
        assert log_in(client, "wrong", **kwargs).status_code == 200  # the form again, with its error


def lock_out(client, settings, **kwargs: str) -> None:  # type: ignore[no-untyped-def]
    fail(client, settings.AXES_FAILURE_LIMIT - 1, **kwargs)
    assert log_in(client, "wrong", **kwargs).status_code == 429  # the last failure allowed locks at once


def test_the_right_password_is_refused_after_five_failures_from_one_address(client, moderator, settings) -> None:
    lock_out(client, settings)
    response = log_in(client, PASSWORD)
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many failed log-in attempts" in body and "Try again in 30 minutes" in body
    assert "_auth_user_id" not in client.session


def test_a_lockout_holds_one_user_name_at_one_address_only(client, moderator, settings) -> None:
    User.objects.create_user("editor", password=PASSWORD, is_staff=True)
    lock_out(client, settings)
    assert log_in(client, PASSWORD).status_code == 429
    assert log_in(client, PASSWORD, username="editor").status_code == 302  # another user, same address
    client.logout()
    assert log_in(client, PASSWORD, address=ELSEWHERE).status_code == 302  # same user, another address


def test_a_successful_log_in_resets_the_count(client, moderator, settings) -> None:
    fail(client, settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, PASSWORD).status_code == 302
    client.logout()
    fail(client, settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, PASSWORD).status_code == 302


def test_staff_unlock_a_user_name_and_the_cool_off_unlocks_by_itself(client, moderator, settings) -> None:
    lock_out(client, settings)
    assert log_in(client, PASSWORD).status_code == 429
    call_command("axes_reset_username", "moderator")
    assert log_in(client, PASSWORD).status_code == 302
    client.logout()

    lock_out(client, settings)
    assert log_in(client, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - settings.AXES_COOLOFF_TIME
                                 - dt.timedelta(seconds=1))
    assert log_in(client, PASSWORD).status_code == 302


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(client, moderator, settings) -> None:
    settings.API_TRUSTED_PROXIES = 1
    proxy = "10.0.0.2"
    for forged in range(settings.AXES_FAILURE_LIMIT - 1):
        # The client writes the left part of X-Forwarded-For; only the proxy's own entry counts.
        fail(client, 1, address=proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.{forged}, {HERE}")
    assert log_in(client, "wrong", address=proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.50, {HERE}").status_code == 429
    assert log_in(client, PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.99, {HERE}").status_code == 429
    assert AccessAttempt.objects.get().ip_address == HERE
    assert log_in(client, PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR=ELSEWHERE).status_code == 302


def test_a_forwarded_address_that_is_not_an_address_is_not_stored(client, moderator, settings) -> None:
    settings.API_TRUSTED_PROXIES = 1
    response = log_in(client, "wrong", address="10.0.0.2", HTTP_X_FORWARDED_FOR="unknown")
    assert response.status_code == 200  # the form again, not a database error
    assert AccessAttempt.objects.get().ip_address is None
