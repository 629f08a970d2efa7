"""Open311 answers in JSON or XML, chosen by the path's suffix (`.json` / `.xml`), and the specification's error
shape: `[{"code": 400, "description": "…"}]`, or `<errors><error><code>…` in XML.

XML is written with xml.etree (it escapes text and refuses nothing we send); element names follow the
specification's examples: a list's items are named after the list (`services` → `service`, `attributes` →
`attribute`, …), and a value that is None is an empty element.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from django.http import HttpResponse
from django.utils.cache import patch_cache_control

from bukaamanzi.apitools import dumps
from open311.errors import Open311Error

CONTENT_TYPES = {"json": "application/json", "xml": "text/xml; charset=utf-8"}
XML_DECLARATION = b"<?xml version='1.0' encoding='utf-8'?>\n"
# A list's element name -> its items' element name.
ITEMS = {
    "services": "service", "service_requests": "request", "attributes": "attribute", "values": "value",
    "endpoints": "endpoint", "formats": "format", "errors": "error",
}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return str(value)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, list):
        item_name = ITEMS[element.tag]
        for child in value:
            _fill(ET.SubElement(element, item_name), child)
    elif value is not None:
        element.text = _text(value)


def to_xml(root: str, data: Any) -> bytes:
    """`data` under a `root` element: a list's items named by ITEMS[root], a dict's keys as elements."""
    element = ET.Element(root)
    _fill(element, data)
    # Written as text and encoded once: with encoding="utf-8", ElementTree sends every piece through an encoder,
    # which took half the time of a 1,000-request list (bench/open311/read.py).
    return XML_DECLARATION + ET.tostring(element, encoding="unicode").encode()


def render(data: Any, fmt: str, *, root: str, status: int = 200, cache: bool = False) -> HttpResponse:
    """`root` names the XML document element (the JSON body is `data` as it is)."""
    body = to_xml(root, data) if fmt == "xml" else dumps(data)
    response = HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])
    if status >= 300 or not cache:
        patch_cache_control(response, no_cache=True) if status < 300 else patch_cache_control(response, no_store=True)
    else:
        patch_cache_control(response, public=True, max_age=300)
    return response


def error_response(fmt: str, status: int, descriptions: Sequence[str],
                   retry_after: int | None = None) -> HttpResponse:
    errors = [{"code": status, "description": str(description)} for description in descriptions]
    response = render(errors, fmt if fmt in CONTENT_TYPES else "json", root="errors", status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def error_of(exc: Open311Error, fmt: str) -> HttpResponse:
    return error_response(fmt, exc.status, exc.descriptions, exc.retry_after)
