"""Forms of the moderation confirmation page: every action on reports and updates asks for a reason."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from projects.models import Project
from reports.lifecycle import MODERATOR_STATES
from reports.models import BanKind, Report, ReportState

# How many projects the search without JavaScript lists; refine the words to find one further down.
SEARCH_RESULTS = 20


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded in the moderation log with your name. Not shown to the public."),
        error_messages={"required": _("Give a reason: it is recorded with the action.")},
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give a reason: it is recorded with the action."))
        return reason


class NoteForm(ReasonForm):
    note = forms.CharField(
        label=_("Internal note"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Added to the report's internal notes, which only moderators see."),
    )
    field_order = ("note", "reason")

    def clean_note(self) -> str:
        note = self.cleaned_data["note"].strip()
        if not note:
            raise forms.ValidationError(_("The note is empty."))
        return note


class LinkProjectForm(ReasonForm):
    """A project picker that searches as you type (admin autocomplete) and, without JavaScript, a search box
    whose results are listed as radio buttons."""

    project_search = forms.CharField(
        label=_("Search projects"),
        required=False,
        max_length=200,
        help_text=_("Words from the project's name, its identifier at the source or its municipality code."),
    )
    project = forms.ModelChoiceField(
        label=_("Project"),
        queryset=Project.objects.all(),
        error_messages={"required": _("Choose the project to link the reports to.")},
    )
    field_order = ("project_search", "project", "reason")
    # How many projects the search found; None when no search was made (the template then says nothing).
    search_count: int | None

    def __init__(self, *args: Any, search: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # self.fields holds deep copies typed as plain Field; this one is the ModelChoiceField declared above.
        field = cast(forms.ModelChoiceField, self.fields["project"])
        if search:
            pks = list(project_search_queryset(search).values_list("pk", flat=True)[:SEARCH_RESULTS])
            field.queryset = Project.objects.filter(pk__in=pks).select_related("municipality")
            field.widget = forms.RadioSelect()
            field.widget.choices = field.choices
            # Per-instance override, as Django's docs allow; the stubs type it as a bound method, not a callable slot.
            field.label_from_instance = _project_label  # type: ignore[method-assign,assignment]
            self.search_count = len(pks)
        else:
            field.widget = AutocompleteSelect(Report._meta.get_field("project"), admin.site)
            field.widget.choices = field.choices
            self.search_count = None


def _project_label(project: Project) -> str:
    municipality = project.municipality_code or "-"
    return f"{project.name} ({municipality}, {project.external_id})"


def project_search_queryset(search: str) -> Any:
    """Projects matching every word of `search` in their name, source identifier or municipality code."""
    queryset = Project.objects.all()
    for word in search.split()[:8]:
        queryset = queryset.filter(
            Q(name__icontains=word) | Q(external_id__iexact=word) | Q(municipality__code__iexact=word)
        )
    return queryset.order_by("name")


class StateForm(ReasonForm):
    state = forms.ChoiceField(
        label=_("New state"),
        choices=[(value, label) for value, label in ReportState.choices if value in MODERATOR_STATES],
        help_text=_("Shown on the report's page. To mark a duplicate, use “Mark as a duplicate”."),
    )
    field_order = ("state", "reason")


class DuplicateForm(ReasonForm):
    original = forms.IntegerField(
        label=_("Number of the original report"),
        min_value=1,
        help_text=_("The number in the original report's address (/reports/<number>/). Its page lists the "
                    "duplicates."),
        error_messages={"required": _("Give the number of the original report.")},
    )
    field_order = ("original", "reason")

    def clean_original(self) -> Report:
        report = Report.objects.filter(pk=self.cleaned_data["original"]).select_related("duplicate_of").first()
        if report is None:
            raise forms.ValidationError(_("No report has this number."))
        return report


class BanSenderForm(ReasonForm):
    """"Ban this sender" on a report or an update: which of the sender's traces goes on the ban list."""

    kind = forms.ChoiceField(
        label=_("List the sender by"),
        choices=[
            (BanKind.EMAIL, _("Their email address")),
            (BanKind.DOMAIN, _("Their email's domain (everyone at it)")),
            (BanKind.ADDRESS, _("Their client address (its keyed hash)")),
        ],
        widget=forms.RadioSelect,
        help_text=_("What they send from now on is stored hidden and never alerted; they are not told. What they "
                    "sent before stays as it is: mark it as spam if it should go."),
        error_messages={"required": _("Choose how to list the sender.")},
    )
    field_order = ("kind", "reason")
