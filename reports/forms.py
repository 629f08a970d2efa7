"""The community report form: what a resident types, checked before `report_submit` is called.

A report needs a point on the map (the model requires one). It can come from tapping the map, the phone's
position, the two number boxes (the no-JavaScript path), the project being reported on, or a town named in
the typed address (looked up in the offline GeoNames gazetteer). If none of these gives a place, the form
says so beside the location.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from bukaamanzi.lib.forms import HoneypotForm
from bukaamanzi.lib.geo import SOUTH_AFRICA
from municipalities import gazetteer
from projects.models import Project
from reports.lifecycle import MAX_UPDATE_PHOTOS
from reports.models import ReportType
from reports.photos import MAX_PHOTOS
from reports.services import in_south_africa

REQUIRED = {"required": _("Please fill in this field.")}


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Up to `max_photos` files from one input; each is checked by its bytes in reports.photos."""

    widget = MultiplePhotoInput
    max_photos = MAX_PHOTOS

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > self.max_photos:
            raise forms.ValidationError(_("You can add at most %(max)d photos."), params={"max": self.max_photos})
        return [super(MultiplePhotoField, self).clean(f, initial) for f in files]


@dataclass(frozen=True)
class Location:
    lng: float
    lat: float
    how: str  # "point", "project", "address" or "photo" (where a photo was taken: the sender confirms it)
    place: str = ""


class ReportForm(HoneypotForm):
    project = forms.UUIDField(required=False, widget=forms.HiddenInput)
    title = forms.CharField(label=_("Title"), max_length=200, error_messages=REQUIRED,
                            help_text=_("A few words, for example “Pipe burst on Main Road”."))
    description = forms.CharField(label=_("What did you see?"), max_length=5000, error_messages=REQUIRED,
                                  widget=forms.Textarea(attrs={"rows": 5}))
    report_type = forms.ChoiceField(label=_("Type of report"), choices=ReportType.choices,
                                    error_messages={**REQUIRED, "invalid_choice": _("Please choose a type.")},
                                    widget=forms.RadioSelect)
    latitude = forms.FloatField(label=_("Latitude"), required=False, min_value=float(SOUTH_AFRICA.min_lat),
                                max_value=float(SOUTH_AFRICA.max_lat),
                                error_messages={"invalid": _("Latitude must be a number, for example -33.92.")},
                                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    longitude = forms.FloatField(label=_("Longitude"), required=False, min_value=float(SOUTH_AFRICA.min_lng),
                                 max_value=float(SOUTH_AFRICA.max_lng),
                                 error_messages={"invalid": _("Longitude must be a number, for example 18.42.")},
                                 widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    address = forms.CharField(label=_("Address or place"), required=False, max_length=500,
                              help_text=_("Street, suburb or town. If you cannot use the map, name the town "
                                          "and we place the report there."))
    rough_location = forms.BooleanField(
        label=_("Show the place only roughly"), required=False,
        help_text=_("The public sees the place to within about 500 m, not the exact point (for example, when it "
                    "is your home). Moderators see the exact point."))
    photos = MultiplePhotoField(label=_("Photos (up to 5)"), required=False,
                                help_text=_("JPEG, PNG or WebP, at most 5 MB each. Location data inside photos "
                                            "is removed."),
                                widget=MultiplePhotoInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
    photo_description = forms.CharField(label=_("What do the photos show?"), required=False, max_length=300,
                                        help_text=_("Read aloud to people who cannot see the photos."))
    name = forms.CharField(label=_("Your name (optional)"), required=False, max_length=100,
                           help_text=_("Shown with your report. Leave empty to stay anonymous."))
    email = forms.EmailField(label=_("Your email (optional)"), required=False,
                             error_messages={"invalid": _("Please enter a valid email address.")},
                             help_text=_("Never shown to anyone. Only moderators may use it to ask you about "
                                         "your report."))
    def __init__(self, *args: Any, project: Project | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.project_obj = project
        self.location: Location | None = None
        self.fields["latitude"].error_messages["min_value"] = self.fields["latitude"].error_messages["max_value"] = (
            _("The place must be in South Africa (latitude between %(min)s and %(max)s).")
            % {"min": SOUTH_AFRICA.min_lat, "max": SOUTH_AFRICA.max_lat}
        )
        self.fields["longitude"].error_messages["min_value"] = self.fields["longitude"].error_messages[
            "max_value"] = _("The place must be in South Africa (longitude between %(min)s and %(max)s).") % {
            "min": SOUTH_AFRICA.min_lng, "max": SOUTH_AFRICA.max_lng}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.is_bot:
            raise forms.ValidationError(_("This report could not be accepted."))
        lat, lng = data.get("latitude"), data.get("longitude")
        if "latitude" in self.errors or "longitude" in self.errors:
            return data
        if (lat is None) != (lng is None):
            self.add_error("latitude", _("Please give both latitude and longitude, or tap the map."))
            return data
        if lat is not None and lng is not None:
            if in_south_africa(lng, lat):
                self.location = Location(lng=lng, lat=lat, how="point")
            else:
                self.add_error("latitude", _("The place must be in South Africa."))
            return data
        project = self.project_obj
        if project is not None and project.location is not None:
            self.location = Location(lng=project.location.x, lat=project.location.y, how="project")
            return data
        municipality = project.municipality if project is not None else None
        place = find_place(data.get("address", ""), municipality.province if municipality is not None else "")
        if place is not None:
            self.location = Location(lng=place.longitude, lat=place.latitude, how="address", place=place.name)
            return data
        if data.get("address"):
            message = _("We could not find a town in this address. Please name the nearest town, tap the map, "
                        "or use your phone's position.")
            self.add_error("address", message)
        self.add_error("latitude", _("Please show where this is: tap the map, use your phone's position, "
                                     "or type the nearest town in the address box."))
        return data


def find_place(address: str, province: str = "") -> gazetteer.Place | None:
    """The first town named in the address (last part first: addresses end with the town), if any."""
    parts = [part.strip() for part in address.replace("\n", ",").split(",") if part.strip()]
    for part in reversed(parts):
        place = gazetteer.find_seat(part, province) if province else None
        place = place or gazetteer.find_seat(part, "")
        if place is not None:
            return place
    return None


class UpdateForm(HoneypotForm):
    """An update to a report from anyone, on the report's page (works without JavaScript)."""

    text = forms.CharField(label=_("What happened?"), max_length=5000, error_messages=REQUIRED,
                           widget=forms.Textarea(attrs={"rows": 4}),
                           help_text=_("For example “A team came on Monday and the leak has stopped”."))
    fixed = forms.BooleanField(label=_("This problem is fixed now"), required=False)
    photos = MultiplePhotoField(label=_("Photos (up to 3)"), required=False,
                                help_text=_("JPEG, PNG or WebP, at most 5 MB each. Location data inside photos "
                                            "is removed."),
                                widget=MultiplePhotoInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
    photo_description = forms.CharField(label=_("What do the photos show?"), required=False, max_length=300)
    name = forms.CharField(label=_("Your name (optional)"), required=False, max_length=100,
                           help_text=_("Shown with your update. Leave empty to stay anonymous."))
    email = forms.EmailField(label=_("Your email (optional)"), required=False,
                             error_messages={"invalid": _("Please enter a valid email address.")},
                             help_text=_("Never shown to anyone. Only moderators may use it to ask you about "
                                         "your update."))
    def __init__(self, *args: Any, can_mark_fixed: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if not can_mark_fixed:
            del self.fields["fixed"]
        photos = self.fields["photos"]
        assert isinstance(photos, MultiplePhotoField)
        photos.max_photos = MAX_UPDATE_PHOTOS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.is_bot:
            raise forms.ValidationError(_("This update could not be accepted."))
        return data


class ReporterUpdateForm(UpdateForm):
    """The update form on the reporter's private page: the reporter may also say it is not fixed (reopen)."""

    outcome = forms.ChoiceField(
        label=_("Is the problem fixed?"), required=False, widget=forms.RadioSelect,
        choices=[("", _("No change")), ("fixed", _("It is fixed")), ("not_fixed", _("It is not fixed"))],
    )
    field_order = ("text", "outcome")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["can_mark_fixed"] = False  # `outcome` asks instead
        super().__init__(*args, **kwargs)

    @property
    def says_fixed(self) -> bool | None:
        return {"fixed": True, "not_fixed": False}.get(self.cleaned_data.get("outcome") or "")


class RemovalForm(forms.Form):
    reason = forms.CharField(label=_("Why should the report be removed?"), max_length=2000, error_messages=REQUIRED,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("A moderator reads this and decides. The report stays until then."))
