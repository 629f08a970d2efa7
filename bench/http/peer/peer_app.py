"""The FastAPI peer's ASGI app (`peer_app:app`) with its polling of government sites switched off, for bench/http.

Run only by serve.sh, in the peer's own venv with the peer's backend/ on sys.path: project code never imports this.

Start-up checked with `strace -f -e trace=connect` (served with 1 and 2 workers, then curled and loaded): with the
scheduler replaced, a worker's only connections are two to REDIS_URL, which serve.sh points at a closed loopback port:
the pub/sub listener task ends at its first subscribe, and the ETL manager's start-up notice fails, caught. Neither is
on a measured HTTP path, so both stay. The ETL manager's workers only wait on an empty in-memory queue: left too. Its
stop at shutdown sends a notice too, uncaught there: each worker prints one "Error stopping ETL Manager" line on exit.
"""

import logging

from app.main import app
from app.services.data_scheduler import DataScheduler


async def _no_polling(self: DataScheduler) -> None:
    # The real start_scheduler starts tasks that fetch the DWS and Treasury sites every 30 to 60 minutes, from the
    # first second: network traffic and database writes in the middle of a measurement. Leaving `running` False also
    # makes its stop_scheduler at shutdown a no-op.
    return None


DataScheduler.start_scheduler = _no_polling  # type: ignore[method-assign]

# Errors only: the peer's own loggers write INFO lines to stdout (start-up chatter, the Redis-unavailable warning).
logging.disable(logging.WARNING)

__all__ = ["app"]
