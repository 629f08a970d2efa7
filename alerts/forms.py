"""The /alerts/ sign-up form: what a resident types, turned into the target `alert_subscribe` takes.

The area's centre comes from tapping the map or the phone's position (both fill the number boxes), the number
boxes themselves (the no-JavaScript path), or a typed town looked up in the offline gazetteer. The service
checks the target (alerts.services.alert_target), so the page and the API refuse the same things.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from alerts.models import AlertKind, Frequency
from alerts.services import DEFAULT_RADIUS_KM, MAX_RADIUS_KM, MIN_RADIUS_KM, AlertError, AlertTarget, alert_target
from bukaamanzi.lib.forms import HoneypotForm
from reports.forms import find_place

REQUIRED = {"required": _("Please fill in this field.")}
# Where a service error is shown on the form.
ERROR_FIELDS = {"project_id": "kind", "municipality": "municipality", "lat": "latitude", "lng": "longitude",
                "radius_km": "radius_km", "kind": "kind", "email": "email", "frequency": "frequency"}


class AlertForm(HoneypotForm):
    email = forms.EmailField(label=_("Your email"), error_messages={
        **REQUIRED, "invalid": _("Please enter a valid email address.")},
        help_text=_("Never shown to anyone. We send a link to confirm first."))
    kind = forms.ChoiceField(label=_("What to follow"), choices=AlertKind.choices, widget=forms.RadioSelect,
                             error_messages={**REQUIRED, "invalid_choice": _("Please choose what to follow.")})
    project = forms.CharField(required=False, widget=forms.HiddenInput)
    municipality = forms.CharField(label=_("Municipality"), required=False, max_length=10)
    place = forms.CharField(label=_("Town or place"), required=False, max_length=200,
                            help_text=_("For an area: name a town, tap the map, or use your phone's position."))
    latitude = forms.FloatField(label=_("Latitude"), required=False,
                                error_messages={"invalid": _("Latitude must be a number, for example -33.92.")})
    longitude = forms.FloatField(label=_("Longitude"), required=False,
                                 error_messages={"invalid": _("Longitude must be a number, for example 18.42.")})
    radius_km = forms.DecimalField(label=_("Distance around it (km)"), required=False, initial=DEFAULT_RADIUS_KM,
                                   min_value=MIN_RADIUS_KM, max_value=MAX_RADIUS_KM, decimal_places=1,
                                   error_messages={"invalid": _("The distance must be a number of kilometres.")})
    frequency = forms.ChoiceField(label=_("How often"), choices=Frequency.choices, initial=Frequency.IMMEDIATE,
                                  widget=forms.RadioSelect,
                                  error_messages={**REQUIRED, "invalid_choice": _("Please choose how often.")})
    # A field people never see; bots fill every box they find.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.target: AlertTarget | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors or self.is_bot:
            return data
        kind = data.get("kind")
        lat, lng, place = data.get("latitude"), data.get("longitude"), data.get("place", "")
        if kind == AlertKind.AREA and (lat is None or lng is None):
            found = find_place(place) if place else None
            if found is None:
                if place:
                    self.add_error("place", _("We could not find this town. Name the nearest town, tap the map, "
                                              "or use your phone's position."))
                else:
                    self.add_error("latitude", _("Please show the area: name a town, tap the map, or use your "
                                                 "phone's position."))
                return data
            lat, lng, place = found.latitude, found.longitude, found.name
        try:
            self.target = alert_target(kind=kind, project_id=data.get("project"), municipality=data.get("municipality"),
                                       lat=lat, lng=lng, radius_km=data.get("radius_km"), place=place)
        except AlertError as exc:
            self.add_error(ERROR_FIELDS.get(exc.field), exc.message)
        return data
