"""Which public states a report can move to, and who may move it (pure rules; the writes are in services).

- A problem (a problem or a quality concern) starts **open**; progress updates and completion reports start as
  **noted**: they tell news and wait for no fix.
- Anyone may say an open problem is fixed (marked "fixed, says a resident"); only its reporter may reopen a
  fixed or closed one ("it is not fixed").
- Moderators may set any state, with a reason; **duplicate** needs the original.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from reports.models import ReportState, ReportType, StateSetBy

PROBLEM_TYPES = frozenset({ReportType.ISSUE, ReportType.QUALITY_CONCERN})
# Problems still waiting for a fix: the ones "is it fixed?" asks about and duplicate suggestions offer.
UNRESOLVED = frozenset({ReportState.OPEN, ReportState.ACKNOWLEDGED, ReportState.IN_PROGRESS})
CLOSED = frozenset({ReportState.FIXED, ReportState.NOT_FIXED})


def initial_state(report_type: str) -> ReportState:
    return ReportState.OPEN if report_type in PROBLEM_TYPES else ReportState.NOTED


def can_mark_fixed(state: str) -> bool:
    """Anyone may say an unresolved problem, or one closed without a fix, is fixed now."""
    return state in UNRESOLVED or state == ReportState.NOT_FIXED


def can_reopen(state: str) -> bool:
    return state in CLOSED


def state_sentence(state: str, set_by: str) -> str:
    """"fixed, says a resident": the state with who set it, as the report page and the history say it."""
    try:
        label = str(ReportState(state).label).lower()
    except ValueError:
        label = state
    if set_by == StateSetBy.RESIDENT:
        return _("%(state)s, says a resident") % {"state": label}
    if set_by == StateSetBy.REPORTER:
        return _("%(state)s, says the reporter") % {"state": label}
    return label
