"""What each data source is called and how its data is credited: the one place the rest of the site reads.

The ingestion source classes (`ingestion/sources/base.py`) register their description here when they are
registered, and `projects` registers the demo data's. It sits at the bottom of the house so that attribution,
the map layer, exports and status pages can name and credit any source without importing ingestion.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class SourceInfo:
    name: str  # the one name: stored on projects, runs and breakers, used by `manage.py ingest` and the API
    title: str | Promise  # what residents read, e.g. "National Treasury, Municipal Money"
    credit: str  # the credit line under every figure of this source
    url: str = ""
    licence: str = ""
    terms_url: str = ""
    is_demo: bool = False


_registered: dict[str, SourceInfo] = {}


def source_info_register(info: SourceInfo) -> None:
    _registered[info.name] = info


def source_info_unregister(name: str) -> None:
    _registered.pop(name, None)


def source_info(name: str) -> SourceInfo:
    """The description of `name`; an unknown name (a row left by a source removed since) is credited by name."""
    return _registered.get(name) or SourceInfo(name=name, title=name, credit=name)


def real_source_names() -> list[str]:
    """Every registered source that is not demo data, in registration order."""
    return [info.name for info in _registered.values() if not info.is_demo]


def source_choices() -> list[tuple[str, str | Promise]]:
    """The choices of `Project.source` (a callable, so a new source needs no migration)."""
    return [(info.name, info.title) for info in _registered.values()]
