#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bukaamanzi.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A bad setting or a missing system library is something to fix, not a traceback to read.
        sys.exit(f"Configuration problem: {exc}")
    except OperationalError as exc:
        sys.exit(f"Cannot reach the database (check DATABASE_URL and that the server runs): {exc}")


if __name__ == "__main__":
    main()
