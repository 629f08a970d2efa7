"""The one NinjaAPI: each app contributes a tagged Router."""

from __future__ import annotations

from ninja import NinjaAPI

from ingestion.api import router as ingestion_router
from municipalities.api import router as municipalities_router
from projects.api import router as projects_router
from realtime.api import router as realtime_router
from reports.api import router as reports_router

api = NinjaAPI(
    title="Buka Amanzi API",
    version="1.0.0",
    description=(
        "Water and sanitation projects in South Africa, with community reports. Data: National Treasury "
        "(Municipal Money) and the Department of Water and Sanitation (Project Monitoring Dashboard)."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("/municipalities", municipalities_router)
api.add_router("/projects", projects_router)
api.add_router("/reports", reports_router)
api.add_router("", ingestion_router)
api.add_router("", realtime_router)
