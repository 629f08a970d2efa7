"""The baseline for the detail endpoint: the same server, one SELECT of the project row, a small JSON body."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse


def bare_project(request: HttpRequest, project_id: str) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, name, status FROM projects_project WHERE id = %s", [project_id.replace("-", "")
                                                                                        if connection.vendor == "sqlite"
                                                                                        else project_id])
        row = cursor.fetchone()
    if row is None:
        return JsonResponse({"detail": "not found"}, status=404)
    return JsonResponse({"id": str(row[0]), "name": row[1], "status": row[2]})
