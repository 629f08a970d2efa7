"""Who to credit for each source's data: the one text reused by the API, the map layer and every export."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from projects.models import Source

CREDITS: dict[str, dict[str, str]] = {
    Source.MUNICIPAL_MONEY: {
        "credit": "National Treasury, Municipal Money",
        "url": "https://municipalmoney.gov.za",
        "licence": "Open data published by National Treasury",
    },
    Source.DWS: {
        "credit": "Department of Water and Sanitation, Project Monitoring Dashboard",
        "url": "https://ws.dws.gov.za/pmd/",
        "licence": "Published by the Department of Water and Sanitation",
    },
    Source.DEMO: {
        "credit": "Demo data made up by Buka Amanzi: not real projects",
        "url": "",
        "licence": "",
    },
}

DEMO_NOTE = "Demo data: made-up examples shown until real data is loaded. Not real projects."


def credit_text(source: str, fetched_at: dt.datetime | None = None) -> str:
    """One line, e.g. for a CSV column: 'National Treasury, Municipal Money (fetched 2025-01-31)'."""
    credit = CREDITS.get(source, {"credit": source})["credit"]
    if fetched_at is not None:
        return f"{credit} (fetched {fetched_at.date().isoformat()})"
    return credit


def attribution_for(source: str, fetched_at: dt.datetime | None = None) -> dict[str, Any]:
    """The attribution of one project's data."""
    known = CREDITS.get(source, {"credit": source, "url": "", "licence": ""})
    return {
        "source": source,
        "credit": known["credit"],
        "url": known["url"],
        "licence": known["licence"],
        "fetched_at": fetched_at.isoformat() if fetched_at else None,
        "is_demo": source == Source.DEMO,
    }


def attribution_summary(sources: Iterable[str]) -> dict[str, Any]:
    """The attribution block of a list, map layer or export: every source it may contain, and a demo note."""
    present = sorted(set(sources))
    return {
        "sources": [{"source": s, **CREDITS.get(s, {"credit": s})} for s in present],
        "note": DEMO_NOTE if Source.DEMO in present else "",
    }
