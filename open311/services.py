"""Posting a report through Open311: the same `reports.services.report_submit` as the report form and the API
(the ban list, the photo checks and the change log all happen there), plus the Open311 record with the token.

Whether the answer carries the request's id or only its token follows the moderation queue: a report held there
(a first-time sender's, `reports.queue.held_first_time`) gets a token, and `tokens/{token}` gives the id once
the hold is over. A sender on the ban list is answered as a held sender is: the token never resolves.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from apikeys.models import ApiKey
from open311.mapping import title_from
from open311.models import Open311Request
from open311.parsers import Submission
from projects.models import Project
from reports.errors import ReportError
from reports.forms import find_place
from reports.models import Report, ReportStatus
from reports.queue import held_first_time
from reports.services import PhotoUpload, report_submit


@dataclass(frozen=True)
class Posted:
    request: Open311Request
    service_request_id: int | None  # None while held: the client asks tokens/{token} later


def request_public_id(request: Open311Request) -> int | None:
    """The report's id once the public may see it as counted: published and no longer held."""
    report = Report.objects.filter(pk=request.report_id, status=ReportStatus.PUBLISHED).exclude(
        held_first_time(timezone.now())).values_list("pk", flat=True).first()
    return report


def open311_request_submit(
    *, submission: Submission, key: ApiKey, client_address: str, photos: Sequence[PhotoUpload] = (),
    language: str = "",
) -> Posted:
    """Store the report and its Open311 record. Raises ReportError naming the field at fault (an unknown
    project, an address with no town we know, and whatever `report_submit` refuses)."""
    project = None
    if submission.project_id is not None:
        project = Project.objects.filter(pk=submission.project_id).select_related("municipality").first()
        if project is None:
            raise ReportError("attribute[project]", _("No project has this id."))
    lng, lat = submission.lng, submission.lat
    if lng is None or lat is None:
        # Coordinates are never invented: only a town the gazetteer knows places a report without them.
        province = project.municipality.province if project is not None and project.municipality else ""
        place = find_place(submission.address, province)
        if place is None:
            raise ReportError("address_string", _("No town we know is named in it: send lat and long, or end "
                                                  "the address with the nearest town."))
        lng, lat = place.longitude, place.latitude
    # Not one transaction with the report: report_submit resizes photos before its own transaction, so that no
    # write lock is held meanwhile. Should the record fail after it, the report stands as one sent from the page.
    report = report_submit(
        title=submission.title or title_from(submission.description), description=submission.description,
        report_type=submission.service_code, lng=lng, lat=lat, project=project, address=submission.address,
        name=submission.name, email=submission.email, photos=photos, language=language,
        rough_location=submission.rough_location, client_address=client_address,
    )
    request = Open311Request.objects.create(report=report, token=secrets.token_hex(16), api_key=key,
                                            media_url=submission.media_url)
    return Posted(request=request, service_request_id=request_public_id(request))
