"""What ingestion announces to live clients, as signals that `realtime` listens to.

Why signals: the live pages and sockets (`realtime`) sit above ingestion (the pipeline page reads runs), so
ingestion may not import them. Ingestion says what happened; `RealtimeConfig.ready()` connects the receivers
that tell open pages. This inverts a dependency; it is not business logic (no receiver writes data), and the
receivers never raise into ingestion.
"""

from __future__ import annotations

from django.dispatch import Signal

# A run was created or changed state (queued, refused, running); sent after commit with sender=IngestionRun
# and `run`.
run_changed = Signal()
# A run has ended, whatever its status, and been saved; sent after commit with sender=IngestionRun and `run`.
run_finished = Signal()
