"""What ingestion tells the layers above it, without importing them: `realtime` connects its receivers in
`RealtimeConfig.ready()` (the pipeline page push and the `system_error` announcement). Signals here invert a
dependency; they carry no business logic, and a receiver that fails never fails the run."""

from __future__ import annotations

from django.dispatch import Signal

# A run was created or changed state (queued, refused, running); sent after commit. Keyword argument: run.
run_changed = Signal()
# A run has ended (whatever its status) and been saved; sent after commit. Keyword argument: run.
run_finished = Signal()
