"""Reading Open311 answers in either format, and the element shapes of the specification's XML examples
(http://wiki.open311.org/GeoReport_v2), which every XML answer must follow."""

from __future__ import annotations

from typing import Any

from defusedxml import ElementTree

REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
# document element -> its item element -> the item's children, in the examples' order.
SHAPES: dict[str, tuple[str | None, list[str] | None]] = {
    "services": ("service", ["service_code", "service_name", "description", "metadata", "type", "keywords",
                             "group"]),
    "service_requests": ("request", None),  # GET, POST and tokens differ: checked by the caller
    "errors": ("error", ["code", "description"]),
}
DISCOVERY = ["changeset", "contact", "key_service", "endpoints"]
ENDPOINT = ["specification", "url", "changeset", "type", "formats"]
DEFINITION = ["service_code", "attributes"]
ATTRIBUTE = ["variable", "code", "datatype", "required", "datatype_description", "order", "description"]


def _children(element: Any) -> list[str]:
    return [child.tag for child in element]


def check_shape(body: bytes, item_fields: list[str] | None = None) -> Any:
    """Parse `body` (safely) and check it against the examples' shape; returns the document element."""
    root = ElementTree.fromstring(body)
    if root.tag == "discovery":
        assert _children(root) == DISCOVERY
        for endpoint in root.find("endpoints"):
            assert endpoint.tag == "endpoint" and _children(endpoint) == ENDPOINT
            assert {format.tag for format in endpoint.find("formats")} == {"format"}
        return root
    if root.tag == "service_definition":
        assert _children(root) == DEFINITION
        for attribute in root.find("attributes"):
            assert attribute.tag == "attribute"
            names = _children(attribute)
            assert names[:len(ATTRIBUTE)] == ATTRIBUTE and names[len(ATTRIBUTE):] in ([], ["values"])
            for value in attribute.findall("values/value"):
                assert _children(value) == ["key", "name"]
        return root
    item, fields = SHAPES[root.tag]
    for child in root:
        assert child.tag == item
        assert _children(child) == (fields or item_fields), _children(child)
        assert all(len(grandchild) == 0 for grandchild in child)  # flat: text only
    return root


def as_data(response: Any, fmt: str) -> Any:
    """The answer as lists and dicts: JSON as it is, XML (shape-checked) as a list of {tag: text} per item."""
    if fmt == "json":
        assert response["Content-Type"] == "application/json"
        return response.json()
    assert response["Content-Type"].startswith("text/xml")
    root = check_shape(response.content, _request_fields(response.content))
    return [{child.tag: child.text for child in item} for item in root]


def _request_fields(body: bytes) -> list[str] | None:
    root = ElementTree.fromstring(body)
    first = root.find("request")
    if root.tag != "service_requests" or first is None:
        return None
    names = _children(first)
    # GET, POST and tokens answers: the examples' three shapes of a request.
    for shape in (REQUEST_FIELDS, ["service_request_id", "service_notice", "account_id"],
                  ["token", "service_notice", "account_id"], ["service_request_id", "token"]):
        if names == shape:
            return shape
    raise AssertionError(f"unknown request shape {names}")
