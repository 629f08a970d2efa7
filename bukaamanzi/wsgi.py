"""WSGI entry point of the page and API processes (scripts/serve.py serves it with granian); WebSockets stay on ASGI.

Every view is synchronous, and a WSGI server runs them on a fixed set of threads, so a thread's database connection
can serve many requests: on SpatiaLite that saves opening one per request (settings, "Database").
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bukaamanzi.settings")
os.environ.setdefault("DB_CONN_MAX_AGE", "600")

application = get_wsgi_application()

from projects.dataversion import enable_push  # noqa: E402  (needs Django set up first)

# Each page process hears the data version from PostgreSQL instead of asking for it per request.
enable_push()
