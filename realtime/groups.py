"""The one place that builds channel-layer group names, so senders and consumers always agree."""

from __future__ import annotations

ALL = "all"


def project_group(project_id: object) -> str:
    return f"project-{project_id}"


def municipality_group(code: str) -> str:
    # Group names allow only ASCII letters, digits, hyphens, underscores and periods; MDB codes already are.
    return f"municipality-{code.upper()}"


def groups_for_change(*, project_id: str, municipality_code: str) -> list[str]:
    groups = [ALL]
    if project_id:
        groups.append(project_group(project_id))
    if municipality_code:
        groups.append(municipality_group(municipality_code))
    return groups


# Every live connection joins this group, so a failing source can be announced to all of them.
SYSTEM = "system"


def html_project_group(project_id: object, language: str) -> str:
    """Open project pages in one language: they receive fragments rendered in it, not the JSON feed."""
    return f"html-project-{project_id}-{language}"


def html_municipality_group(code: str, language: str) -> str:
    """Open municipality pages: the totals and the rows of the municipality's projects that changed."""
    return f"html-municipality-{code.upper()}-{language}"


def html_home_group(language: str) -> str:
    """Open home pages: the rows of every project that changed (a row not on the page is dropped there)."""
    return f"html-home-{language}"


def html_pipeline_group(language: str) -> str:
    """Open pipeline status pages: the whole panel, rendered again whenever an ingestion run changes."""
    return f"html-pipeline-{language}"
