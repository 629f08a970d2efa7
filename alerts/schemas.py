"""API shapes for signing up to email alerts. The address is never returned."""

from __future__ import annotations

import uuid

from ninja import Field, Schema


class AlertIn(Schema):
    email: str = Field(description="Where the confirmation and the alerts go; never shown or returned")
    kind: str = Field(description="project, municipality or area")
    project_id: uuid.UUID | None = Field(None, description="With kind=project")
    municipality: str | None = Field(None, description="With kind=municipality: the MDB code, e.g. CPT")
    lat: float | None = Field(None, description="With kind=area: the centre (WGS 84), in South Africa")
    lng: float | None = Field(None, description="With kind=area")
    radius_km: float | None = Field(None, description="With kind=area: 0.5 to 50 (default 2)")
    frequency: str = Field("immediate", description="immediate (at most one email per 5 minutes) or daily (07:00)")


class AlertAccepted(Schema):
    status: str = Field(description="confirmation_sent: follow the link in the email to start the alert")
    detail: str
