import pytest
from django.utils import translation

from projects.models import RedFlag, Status
from reports.forms import ReportForm
from reports.models import ReportType

pytestmark = pytest.mark.django_db

LANGUAGES = ("zu", "xh", "af")
NAVIGATION = ("Projects", "Municipalities", "Provinces", "Report a problem", "About", "Language", "Skip to content")


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_covers_navigation_statuses_flags_and_report_form(language: str) -> None:
    form = ReportForm()
    words = [*NAVIGATION, *(str(s.label) for s in Status), *(str(f.label) for f in RedFlag),
             *(str(t.label) for t in ReportType)]
    with translation.override("en"):
        english = [str(label) for label in words] + [str(f.label) for f in form.fields.values() if f.label]
    with translation.override(language):
        translated = [translation.gettext(text) for text in english]
    untranslated = [en for en, other in zip(english, translated, strict=True) if en == other and en != "Status"]
    assert untranslated == []


def test_choosing_a_language_translates_the_pages(client) -> None:
    response = client.post("/i18n/setlang/", {"language": "zu", "next": "/"}, follow=True)
    html = response.content.decode()
    assert '<html lang="zu">' in html
    assert "Amaphrojekthi" in html and "Ukuqaliswa komsebenzi" in html
    form = client.get("/reports/new/").content.decode()
    assert "Thumela umbiko" in form and "Ayikaze iboniswe muntu" in form
