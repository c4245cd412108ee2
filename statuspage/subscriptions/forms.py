from django import forms
from django.utils.translation import gettext_lazy as _

from statuspage.models import Component
from statuspage.subscriptions.models import Language


def public_components():
    return Component.objects.public().order_by("group__position", "position", "name")


class SubscribeForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        error_messages={"invalid": _("Enter a valid email address, such as name@example.com.")},
    )
    components = forms.ModelMultipleChoiceField(
        label=_("Components (none selected: everything)"),
        queryset=Component.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    # The honeypot: hidden from people by CSS, filled in by bots.
    website = forms.CharField(required=False, label=_("Leave this empty"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].queryset = public_components()


class PreferencesForm(forms.Form):
    components = forms.ModelMultipleChoiceField(
        label=_("Components (none selected: everything)"),
        queryset=Component.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].queryset = public_components()


class WebhookForm(forms.Form):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https")
    components = forms.ModelMultipleChoiceField(
        label="Components (none selected: everything)",
        queryset=Component.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].queryset = public_components()
