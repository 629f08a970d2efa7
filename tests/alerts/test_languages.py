"""The email alerts in isiZulu, isiXhosa and Afrikaans: the sign-up form, its page, and the emails themselves."""

from collections.abc import Iterator

import pytest
from django.utils import translation
from django.utils.html import escape

from alerts.emails import build
from alerts.forms import AlertForm
from alerts.models import AlertKind, Delivery, Frequency
from alerts.services import AlertTarget, alert_subscribe
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

LANGUAGES = ("zu", "xh", "af")
HEADING = {"zu": "Izaziso nge-imeyili", "xh": "Izaziso nge-imeyile", "af": "E-poskennisgewings"}
PAGE = ("Email alerts", "What to follow", "How often", "Your email", "Send me the confirmation email",
        "An area: everything within a distance of a place")
# Lines of the plain-text confirmation email, as their catalogue entries.
EMAIL_LINES = ("To start the alert, open this link and press the button:", "See or stop all your alerts:",
               "Stop emails about this:")


@pytest.fixture(autouse=True)
def _english_again_after_each_test() -> Iterator[None]:
    """A request with a language cookie leaves that language active in the test's thread; do not pass it on."""
    yield
    translation.deactivate()


def in_language(language: str, texts: tuple[str, ...] | list[str]) -> list[str]:
    with translation.override(language):
        return [translation.gettext(text) for text in texts]


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_covers_the_alert_form_and_its_choices(language: str) -> None:
    with translation.override("en"):
        english = [str(f.label) for f in AlertForm().fields.values() if f.label]
        english += [str(choice.label) for choice in (*AlertKind, *Frequency)]
    translated = in_language(language, english)
    assert [en for en, other in zip(english, translated, strict=True) if en == other] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sign_up_page_is_in_the_chosen_language(client, language: str) -> None:
    client.cookies["django_language"] = language
    html = client.get("/alerts/").content.decode()
    assert f'<html lang="{language}">' in html
    assert f"<h1>{HEADING[language]}</h1>" in html
    for english, translated in zip(PAGE, in_language(language, PAGE), strict=True):
        # Labels of form fields are escaped ("'n" becomes "&#x27;n"), texts written in the template are not.
        assert translated != english and (translated in html or escape(translated) in html)
        assert english not in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_confirmation_email_is_in_the_language_of_the_sign_up(language: str) -> None:
    project = ProjectFactory(name="Khayelitsha bulk water main")
    alert_subscribe(email="thandi@example.org", target=AlertTarget(kind="project", project=project),
                    frequency="immediate", language=language)
    delivery = Delivery.objects.get()
    email = build(delivery)
    delivery.language = "en"
    english = build(delivery)
    assert "Please confirm your alert" in english.subject and "To start the alert" in english.body
    assert email.subject != english.subject and email.body != english.body
    assert "Please confirm your alert" not in email.subject
    assert email.extra_headers["Content-Language"] == language
    with translation.override(language):
        target = translation.gettext("the project “%(name)s”") % {"name": project.name}
        subject = translation.gettext("Please confirm your alert for %(target)s") % {"target": target}
        frequency = str(Frequency.IMMEDIATE.label)
    assert email.subject == subject and target in email.body and frequency in email.body
    for english_line, line in zip(EMAIL_LINES, in_language(language, EMAIL_LINES), strict=True):
        assert line != english_line and line in email.body and english_line not in email.body
