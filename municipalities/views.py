"""Resident pages for municipalities."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from municipalities.models import Municipality


def municipality_index(request: HttpRequest) -> HttpResponse:
    municipalities = Municipality.objects.current().only("code", "name", "province", "category")
    return render(request, "municipalities/index.html", {"municipalities": municipalities})


def municipality_detail(request: HttpRequest, code: str) -> HttpResponse:
    municipality = get_object_or_404(Municipality, code=code.upper())
    return render(request, "municipalities/detail.html", {"municipality": municipality})
