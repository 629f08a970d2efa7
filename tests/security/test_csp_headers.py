"""The Content-Security-Policy as the server sends it, and the templates that must keep to it: no inline
script (a <script> without src) and no inline event handler (onclick=...) anywhere in templates/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def _directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_no_template_has_an_inline_script_or_event_handler() -> None:
    offenders = [f"{path.relative_to(TEMPLATES)}: {match.group(0)[:60]}"
                 for path in TEMPLATES.rglob("*.html")
                 for pattern in (INLINE_SCRIPT, HANDLER)
                 for match in pattern.finditer(path.read_text(encoding="utf-8"))]
    assert offenders == []


@pytest.mark.parametrize("path", ["/", "/reports/new/", "/admin/login/", "/api/v1/health"])
def test_every_response_carries_the_policy_without_inline_scripts(client, db, path: str) -> None:  # type: ignore[no-untyped-def]
    header = client.get(path)["Content-Security-Policy"]
    policy = _directives(header)
    assert policy["script-src"][0] == "'self'" and "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert {"'self'", "data:"} <= set(policy["img-src"])
    assert {"'self'", "ws:", "wss:"} <= set(policy["connect-src"])


def test_the_admin_map_widget_gets_the_requests_nonce(admin_client, db) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import ProjectFactory

    project = ProjectFactory()
    response = admin_client.get(f"/admin/projects/project/{project.pk}/change/")
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
    assert nonce is not None
    assert f'<script nonce="{nonce.group(1)}">' in response.content.decode()
