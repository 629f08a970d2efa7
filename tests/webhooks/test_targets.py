"""The SSRF guard: only http(s) on public addresses, checked at subscription and again right before each delivery."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.webhooks.receivers import Receiver
from webhooks import delivery, fanout, services
from webhooks.models import Attempt, Delivery
from webhooks.targets import TargetRefused, check_target


def resolving_to(*addresses: str):  # noqa: ANN201
    return lambda host, port: list(addresses)


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "169.254.1.1", "100.64.0.1", "0.0.0.0",  # noqa: S104
    "::1", "fc00::1", "fe80::1", "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1",
    "2002:a00:1::", "224.0.0.1", "100.100.100.200",
])
def test_a_name_resolving_to_a_private_loopback_link_local_or_metadata_address_is_refused(address):
    with pytest.raises(TargetRefused, match="not a public address"):
        check_target("https://hooks.example.org/in", allow_private=False, resolver=resolving_to(address))


def test_one_private_address_among_public_ones_is_enough_to_refuse():
    with pytest.raises(TargetRefused):
        check_target("https://hooks.example.org/", allow_private=False,
                     resolver=resolving_to("93.184.216.34", "10.0.0.5"))


def test_a_public_address_is_accepted_and_kept_for_the_connection():
    target = check_target("https://hooks.example.org:8443/in?a=1", allow_private=False,
                          resolver=resolving_to("93.184.216.34", "2606:2800:220:1::1"))
    assert (target.scheme, target.host, target.port, target.address) == (
        "https", "hooks.example.org", 8443, "93.184.216.34")


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://[::1]:8080/", "http://169.254.169.254/latest/meta-data"])
def test_an_address_literal_in_the_url_is_checked_without_a_lookup(url):
    with pytest.raises(TargetRefused):
        check_target(url, allow_private=False, resolver=resolving_to("93.184.216.34"))


@pytest.mark.parametrize(("url", "why"), [
    ("ftp://hooks.example.org/", "http and https"),
    ("file:///etc/passwd", "http and https"),
    ("https://user:pw@hooks.example.org/", "user name"),
    ("https:///nohost", "no host"),
])
def test_other_schemes_credentials_and_missing_hosts_are_refused_even_when_private_is_allowed(url, why):
    with pytest.raises(TargetRefused, match=why):
        check_target(url, allow_private=True, resolver=resolving_to("93.184.216.34"))


def test_a_name_that_does_not_resolve_is_refused():
    def fails(host: str, port: int) -> list[str]:
        raise OSError("no such name")

    with pytest.raises(TargetRefused, match="could not be found"):
        check_target("https://nowhere.invalid/", allow_private=False, resolver=fails)


@pytest.mark.django_db
def test_a_private_target_is_refused_at_subscription_without_the_setting(settings, receiver):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    good = receiver(secret="")
    with pytest.raises(ValidationError) as error:
        services.subscription_create(fields=services.SubscriptionFields(url=good.url, event_types=["project.created"]),
                                     created_by="root", reason="test")
    assert "not a public address" in error.value.message_dict["url"][0]


@pytest.mark.django_db
def test_a_target_allowed_at_subscription_is_checked_again_before_each_delivery(settings, receiver):
    good: Receiver = receiver()
    subscription, good.secret = services.subscription_create(
        fields=services.SubscriptionFields(url=good.url, event_types=["project.created"]), created_by="root",
        reason="test")
    from tests.webhooks.test_delivery import new_project

    new_project("GUARD-1")
    assert fanout.fanout_pending() == 1
    settings.WEBHOOKS_ALLOW_PRIVATE = False  # as if the name now resolved to a private address

    result = delivery.deliveries_send()

    assert (result.sent, result.failed, good.requests) == (0, 1, 0)
    attempt = Attempt.objects.get()
    assert attempt.status_code is None and "not a public address" in attempt.error
    assert Delivery.objects.get().next_attempt_at is not None  # retried later, like any failure
