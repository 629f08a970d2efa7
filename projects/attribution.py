"""Who to credit for each source's data: the one text reused by the API, the map layer and every export."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from bukaamanzi.lib.sources import SourceInfo, source_info
from projects.models import Source

# The demo data is the one "source" that projects owns (registered by ProjectsConfig.ready); the real sources
# register theirs from ingestion.
DEMO_SOURCE_INFO = SourceInfo(
    name=Source.DEMO, title=Source.DEMO.label, credit="Demo data made up by Buka Amanzi: not real projects",
    is_demo=True,
)

DEMO_NOTE = "Demo data: made-up examples shown until real data is loaded. Not real projects."


def credit_text(source: str, fetched_at: dt.datetime | None = None) -> str:
    """One line, e.g. for a CSV column: 'National Treasury, Municipal Money (fetched 2025-01-31)'."""
    credit = source_info(source).credit
    if fetched_at is not None:
        return f"{credit} (fetched {fetched_at.date().isoformat()})"
    return credit


def attribution_for(source: str, fetched_at: dt.datetime | None = None) -> dict[str, Any]:
    """The attribution of one project's data."""
    known = source_info(source)
    return {
        "source": source,
        "credit": known.credit,
        "url": known.url,
        "licence": known.licence,
        "fetched_at": fetched_at.isoformat() if fetched_at else None,
        "is_demo": source == Source.DEMO,
    }


def attribution_summary(sources: Iterable[str]) -> dict[str, Any]:
    """The attribution block of a list, map layer or export: every source it may contain, and a demo note."""
    present = sorted(set(sources))
    return {
        "sources": [_credit_entry(source_info(name)) for name in present],
        "note": DEMO_NOTE if Source.DEMO in present else "",
    }


def _credit_entry(info: SourceInfo) -> dict[str, str]:
    return {"source": info.name, "credit": info.credit, "url": info.url, "licence": info.licence}
