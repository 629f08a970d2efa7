import io
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from PIL import Image

from reports.models import Report
from tests.browser.conftest import axe_violations
from tests.factories import ProjectFactory, ReportFactory, municipality

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make_projects():
    cape = ProjectFactory(name="Cape pipeline", status="implementation", progress_percentage=Decimal("48"),
                          location=Point(18.42, -33.92, srid=4326))
    durban = ProjectFactory(name="Durban sewer", status="completed", municipality=municipality("ETH"),
                            location=Point(31.02, -29.85, srid=4326))
    return cape, durban


def test_resident_filters_opens_a_project_reports_with_a_photo_and_is_affected_too(page, site, tmp_path) -> None:
    cape, _ = make_projects()
    page.goto(f"{site}/")
    assert page.locator(".project-card").count() == 2
    # The map draws the map layer's features (points or clusters) for the viewport.
    page.wait_for_selector("#project-map .leaflet-marker-icon")

    page.get_by_label("Completed").check()
    page.wait_for_url("**/?*status=completed*")
    page.wait_for_function("document.querySelectorAll('.project-card').length === 1")
    assert page.locator(".project-card").inner_text().startswith("Durban sewer")
    page.go_back()
    page.wait_for_function("document.querySelectorAll('.project-card').length === 2")

    page.get_by_role("link", name="Cape pipeline").click()
    page.wait_for_url(f"**/projects/{cape.pk}/")
    assert page.locator("#project-progress progress").get_attribute("value") == "48.00"

    page.get_by_role("link", name="Report something about this project").click()
    photo = tmp_path / "trench.png"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 100, 170)).save(buffer, format="PNG")
    photo.write_bytes(buffer.getvalue())
    page.get_by_label("Title").fill("Trench left open")
    page.get_by_label("What did you see?").fill("The trench on Main Road has been open for two weeks.")
    page.get_by_label("Problem").check()
    page.locator("#pick-map").click(position={"x": 120, "y": 120})  # tapping the map fills in the place
    assert page.locator("#id_latitude").input_value() != ""
    page.get_by_label("Photos (up to 5)").set_input_files(str(photo))
    page.get_by_label("What do the photos show?").fill("An open trench beside the road")
    page.get_by_role("button", name="Send report").click()

    page.wait_for_url(f"**/projects/{cape.pk}/*")
    assert "Your report is published and shown below" in page.locator(".messages").inner_text()
    report = Report.objects.get(title="Trench left open")
    card = page.locator(f"#report-{report.pk}")
    assert card.locator("img").get_attribute("alt") == "An open trench beside the road"
    assert card.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")

    card.get_by_role("button", name="It affects me too").click()
    page.wait_for_selector(f"#report-{report.pk} .affected-notice")
    assert "1 resident says this affects them." in page.locator(f"#report-{report.pk} .affected-count").inner_text()
    assert page.url.endswith(f"/projects/{cape.pk}/#report-{report.pk}")  # HTMX: no reload


def test_main_pages_have_no_serious_or_critical_accessibility_violations(page, site) -> None:
    from reports.lifecycle import update_add

    cape, _ = make_projects()
    ReportFactory(project=cape, contributor_name="Thandi")
    problem = ReportFactory(project=cape, report_type="issue", state="open", title="Leak by the school")
    update_add(report=problem, text="Fixed on Monday", fixed=True, name="Sipho")
    from alerts.models import Subscriber
    from alerts.tokens import NO_QUESTIONNAIRE, make
    from reports.tokens import answer_token, reporter_token

    subscriber = Subscriber.objects.create(email="axe@example.org")
    for path in ("/", f"/projects/{cape.pk}/", "/municipalities/CPT/", f"/reports/new/?project={cape.pk}",
                 "/about/", f"/alerts/?project={cape.pk}", "/alerts/?lat=-33.92&lng=18.42",
                 f"/reports/{problem.pk}/", f"/reports/{problem.pk}/yours/{reporter_token(problem.pk)}/",
                 f"/reports/{problem.pk}/answer/{answer_token(problem.pk, 'yes')}/",
                 f"/alerts/no-questionnaire/{make(NO_QUESTIONNAIRE, subscriber.pk)}/"):
        page.goto(f"{site}{path}")
        assert axe_violations(page) == [], path


def test_report_form_errors_are_announced_and_keep_what_was_typed(page, site) -> None:
    page.goto(f"{site}/reports/new/")
    page.get_by_label("Title").fill("Leak")
    page.get_by_role("button", name="Send report").click()
    assert page.locator("#error-summary").is_visible()
    assert page.get_by_label("Title").input_value() == "Leak"
    assert page.locator("#id_description").get_attribute("aria-invalid") == "true"
    assert axe_violations(page) == []


def test_alert_sign_up_errors_are_announced_and_the_map_fills_the_area(page, site) -> None:
    page.goto(f"{site}/alerts/")
    page.get_by_label("An area: everything within a distance of a place").check()
    page.get_by_role("button", name="Send me the confirmation email").click()
    assert page.locator("#error-summary").is_visible()
    assert axe_violations(page) == []
    page.locator("#pick-map").click()  # a tap on the map fills the centre's number boxes
    assert page.locator("#id_latitude").input_value() != ""
    page.get_by_label("Your email").fill("browser@example.org")
    page.get_by_role("button", name="Send me the confirmation email").click()
    page.wait_for_url("**/alerts/sent/")
    assert axe_violations(page) == []


def test_affected_too_and_an_update_work_without_javascript(browser, site) -> None:
    from tests.factories import ProjectFactory

    context = browser.new_context(java_script_enabled=False, locale="en-ZA")
    page = context.new_page()
    try:
        project = ProjectFactory(name="Ward 5 standpipes")
        report = ReportFactory(project=project, report_type="issue", state="open", title="Standpipe leaking")
        page.goto(f"{site}/projects/{project.pk}/")
        page.locator("#project-affected").get_by_role("button", name="It affects me too").click()
        assert "1 resident says this project affects them." in page.locator("#project-affected").inner_text()
        assert "you are counted as affected too" in page.locator(".messages").inner_text()
        page.goto(f"{site}/reports/{report.pk}/")
        page.get_by_role("button", name="It affects me too").click()
        assert "1 resident says this affects them." in page.locator(f"#report-{report.pk}").inner_text()
        page.get_by_label("What happened?").fill("The municipality repaired it this morning.")
        page.get_by_label("This problem is fixed now").check()
        page.get_by_role("button", name="Publish update").click()
        assert "the report is marked fixed" in page.locator(".messages").inner_text()
        assert "Fixed, says a resident" in page.locator(f"#report-{report.pk} .state").inner_text()
    finally:
        context.close()


def test_open_problems_near_the_chosen_place_are_offered_as_it_is_chosen(page, site) -> None:
    from reports.services import report_submit

    existing = report_submit(title="Leak on Jan Smuts", description="d", report_type="issue", lng=28.0473,
                             lat=-26.2041)
    page.goto(f"{site}/reports/new/")
    page.get_by_label("Latitude").fill("-26.2035")
    page.get_by_label("Longitude").fill("28.0473")
    page.get_by_label("Longitude").dispatch_event("change")
    suggestion = page.locator(f"#nearby-{existing.pk}")
    suggestion.wait_for()
    assert "Leak on Jan Smuts" in suggestion.inner_text() and "m away" in suggestion.inner_text()
    assert axe_violations(page) == []
    suggestion.get_by_role("button", name="It affects me too").click()
    page.wait_for_selector(f"#nearby-{existing.pk} .affected-notice")
    existing.refresh_from_db()
    assert existing.affected_count == 1
    # Having seen them, sending the report publishes it without the confirmation step.
    page.get_by_label("Title").fill("Another leak")
    page.get_by_label("What did you see?").fill("Across the road from the first one.")
    page.get_by_label("Problem").check()
    page.get_by_role("button", name="Send report").click()
    assert "Your report is published" in page.locator(".messages").inner_text()
    assert Report.objects.get(title="Another leak").status == "published"


def test_without_javascript_nearby_problems_wait_on_a_confirmation_step(browser, site) -> None:
    from reports.services import report_submit

    existing = report_submit(title="Leak on Jan Smuts", description="d", report_type="issue", lng=28.0473,
                             lat=-26.2041)
    context = browser.new_context(java_script_enabled=False, locale="en-ZA")
    page = context.new_page()
    try:
        page.goto(f"{site}/reports/new/")
        page.get_by_label("Title").fill("Burst pipe")
        page.get_by_label("What did you see?").fill("Water everywhere.")
        page.get_by_label("Problem").check()
        page.get_by_label("Latitude").fill("-26.2035")
        page.get_by_label("Longitude").fill("28.0473")
        page.get_by_role("button", name="Send report").click()
        assert "Already reported near here?" in page.locator("h1").inner_text()
        assert "Leak on Jan Smuts" in page.locator(".nearby-list").inner_text()
        page.get_by_role("button", name="Publish my report").click()
        assert "Your report is published" in page.locator(".messages").inner_text()
        assert existing.pk != Report.objects.get(title="Burst pipe").pk
        assert Report.objects.get(title="Burst pipe").status == "published"
    finally:
        context.close()


def test_the_confirmation_steps_have_no_serious_accessibility_violations(page, site) -> None:
    from reports.services import report_submit

    report_submit(title="Leak on Jan Smuts", description="d", report_type="issue", lng=28.0473, lat=-26.2041)
    page.goto(f"{site}/reports/new/")
    # As a browser without JavaScript would send it (no inline list seen), to reach the confirmation step.
    page.evaluate("document.getElementById('nearby-reports').remove()")
    page.get_by_label("Title").fill("Burst pipe")
    page.get_by_label("What did you see?").fill("Water everywhere.")
    page.get_by_label("Problem").check()
    page.get_by_label("Latitude").fill("-26.2035")
    page.get_by_label("Longitude").fill("28.0473")
    page.get_by_role("button", name="Send report").click()
    assert "Already reported near here?" in page.locator("h1").inner_text()
    assert axe_violations(page) == []
