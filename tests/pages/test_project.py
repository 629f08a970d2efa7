import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from projects.models import Budget, Project
from projects.services import BudgetLine, project_upsert_from_source
from reports.models import ReportPhoto, ReportStatus
from tests.factories import ProjectFactory, ReportFactory, municipality

pytestmark = pytest.mark.django_db


def upserted(**values) -> Project:
    base = {"municipality": municipality("CPT"), "name": "Mitchells Plain reservoir", "status": "preparation",
            "budget_allocated": Decimal("1000000"), "budget_spent": Decimal("100000"),
            "progress_percentage": Decimal("10"), "start_date": dt.date(2024, 7, 1),
            "end_date": dt.date(2030, 6, 30), "location": Point(18.6, -34.0, srid=4326)}
    base.update(values)
    budgets = [BudgetLine(budget_type="Original Budget", financial_year="2024/2025", amount=Decimal("900000")),
               BudgetLine(budget_type="Adjusted Budget", financial_year="2024/2025", amount=Decimal("1000000")),
               BudgetLine(budget_type="Audited Outcome", financial_year="2024/2025", amount=Decimal("100000")),
               BudgetLine(budget_type="Original Budget", financial_year="2025/2026", amount=Decimal("2000000"))]
    return project_upsert_from_source(source="municipal_money", external_id="MM-1", values=base,
                                      budgets=budgets).project


def test_project_page_shows_status_progress_timeline_and_source(client) -> None:
    project = upserted()
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert 'id="project-status"' in html and "Preparation" in html
    assert '<progress id="progress-bar-' in html and "10% complete" in html
    assert "Start: 1 July 2024" in html and "Planned end: 30 June 2030" in html
    assert "National Treasury, Municipal Money" in html and "https://municipalmoney.gov.za" in html
    assert "Fetched on" in html
    assert f'href="/reports/new/?project={project.pk}"' in html


def test_budget_chart_is_server_rendered_svg_with_a_table_per_financial_year(client) -> None:
    project = upserted()
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert '<svg viewBox="0 0 200 200"' in html
    assert html.count('class="bar-budget"') == 2 and html.count('class="bar-spent"') == 2
    # The adjusted budget wins over the original one for the same year.
    assert "<th scope=\"row\">2024/2025</th><td>R\u00a01\u00a0000\u00a0000</td><td>R\u00a0100\u00a0000</td>" in html
    assert "<th scope=\"row\">2025/2026</th><td>R\u00a02\u00a0000\u00a0000</td><td>—</td>" in html


def test_history_is_told_in_plain_words(client) -> None:
    project = upserted()
    upserted(status="implementation", progress_percentage=Decimal("48"))
    html = client.get(f"/projects/{project.pk}/").content.decode()
    today = timezone.localdate()
    when = f"{today.day} {today.strftime('%B')} {today.year}"
    assert f"status changed from Preparation to Implementation on {when}" in html
    assert f"progress (%) changed from 10% to 48% on {when}" in html
    assert f"Project added by data source on {when}" in html


@pytest.mark.parametrize(
    ("values", "flag", "words"),
    [
        ({"budget_spent": Decimal("2000000"), "budget_allocated": Decimal("1000000")}, "Over budget", "spent of"),
        ({"end_date": dt.date(2020, 1, 1), "start_date": dt.date(2019, 1, 1)}, "Overdue", "not completed"),
    ],
)
def test_red_flags_are_explained(client, values, flag, words) -> None:
    project = ProjectFactory(**values)
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert "Red flags" in html and flag in html and words in html


def test_stalled_flag_names_the_date_of_the_last_progress_change(client) -> None:
    project = ProjectFactory(progress_changed_at=timezone.now() - dt.timedelta(days=300))
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert "Stalled" in html and "has not changed since" in html


def test_published_reports_show_with_photos_and_alt_text_but_hidden_ones_do_not(client, png_bytes) -> None:
    project = ProjectFactory()
    shown = ReportFactory(project=project, title="Trench open for weeks", contributor_name="Sipho")
    from django.core.files.base import ContentFile

    ReportPhoto.objects.create(report=shown, image=ContentFile(png_bytes, name="p.png"), alt_text="An open trench")
    ReportFactory(project=project, title="Spam spam", status=ReportStatus.SPAM)
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert f'id="report-{shown.pk}"' in html and "Trench open for weeks" in html and "by Sipho" in html
    assert 'alt="An open trench"' in html
    assert "Spam spam" not in html
    assert 'id="project-reports"' in html


def test_demo_project_page_says_it_is_demo_data(client) -> None:
    project = ProjectFactory(is_demo=True, source="demo")
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert "They are not real projects" in html


def test_unknown_project_gets_the_friendly_404(client) -> None:
    response = client.get("/projects/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_project_page_query_count_does_not_grow_with_reports_and_budgets(client, django_assert_max_num_queries,
                                                                           png_bytes) -> None:
    from django.core.files.base import ContentFile

    project = ProjectFactory()
    report = ReportFactory(project=project)
    ReportPhoto.objects.create(report=report, image=ContentFile(png_bytes, name="p.png"))
    with django_assert_max_num_queries(12) as few:
        client.get(f"/projects/{project.pk}/")
    for n in range(20):
        report = ReportFactory(project=project)
        ReportPhoto.objects.create(report=report, image=ContentFile(png_bytes, name="p.png"))
        Budget.objects.create(project=project, budget_type="Original Budget", financial_year=f"{2000 + n}/{2001 + n}",
                              amount=Decimal("10"), source="municipal_money")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(f"/projects/{project.pk}/")


def test_a_project_without_reports_shows_a_count_of_zero(client) -> None:
    project = ProjectFactory()
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert '<span class="count">(0)</span>' in html


def test_the_location_map_is_given_the_marker_images_real_urls(client) -> None:
    from django.templatetags.static import static

    project = upserted()
    html = client.get(f"/projects/{project.pk}/").content.decode()
    for image in ("marker-icon.png", "marker-icon-2x.png", "marker-shadow.png"):
        assert f'="{static("leaflet/images/" + image)}"' in html, image
