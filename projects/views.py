"""Resident pages for projects."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from projects.models import Project


def home(request: HttpRequest) -> HttpResponse:
    projects = Project.objects.select_related("municipality").order_by("-updated_at")[:50]
    has_demo = Project.objects.filter(is_demo=True).exists()
    return render(request, "projects/home.html", {"projects": projects, "has_demo": has_demo})


def project_detail(request: HttpRequest, pk: str) -> HttpResponse:
    project = get_object_or_404(Project.objects.select_related("municipality"), pk=pk)
    return render(request, "projects/detail.html", {"project": project})
