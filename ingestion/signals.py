"""What ingestion announces to live clients, as signals that `realtime` listens to.

Why signals: the live pages and sockets (`realtime`) sit above ingestion (the pipeline page reads runs), so
ingestion may not import them. Ingestion says what happened; `RealtimeConfig.ready()` connects the receivers
that tell open pages. This inverts a dependency; it is not business logic (no receiver writes data), and the
receivers never raise into ingestion.
"""

from __future__ import annotations

from django.dispatch import Signal

# A run was started, claimed or finished and the change is committed. Sent with sender=IngestionRun.
run_changed = Signal()
# A run ended failed or partial. Sent with sender=IngestionRun and `run` (the IngestionRun).
run_failed = Signal()
