"""`changes_committed`: sent once after a transaction that recorded change-log rows has committed.

Why a signal: the relay that sends those rows to live clients lives in `realtime`, which sits above every
domain app, while this app sits below all of them and may import none. The relay subscribes to this signal
in `RealtimeConfig.ready()`; this is an inverted dependency, not business logic (no receiver writes data).
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with sender=DataChangeLog and no other arguments: receivers read the unsent rows themselves.
changes_committed = Signal()
