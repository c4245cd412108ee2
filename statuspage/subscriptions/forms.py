from django import forms
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from statuspage.languages import pick, uses_second_language
from statuspage.models import Component
from statuspage.public import queries
from statuspage.subscriptions.models import Language
from statuspage.subscriptions.outbound import check_webhook_url


def public_components():
    return queries.public_components().select_related("group")


def language_choices() -> list[tuple[str, str]]:
    """Each language in its own words ("English", "简体中文"): a reader looks for their own."""
    return [(code, get_language_info(code)["name_local"]) for code in Language.values]


class ComponentsField(forms.ModelMultipleChoiceField):
    """Public components as checkboxes, named in the page's language."""

    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, component: Component) -> str:
        return pick(component.name, component.name_alt, uses_second_language())


class ComponentChoicesMixin:
    """The component checkboxes grouped as on the status page, for the template."""

    def component_groups(self) -> list[tuple[str | None, list]]:
        use_alt = uses_second_language()
        groups: list[tuple[str | None, list]] = []
        last = object()
        for choice in self["components"]:
            group = choice.data["value"].instance.group
            if group != last:
                name = pick(group.name, group.name_alt, use_alt) if group else None
                groups.append((name, []))
                last = group
            groups[-1][1].append(choice)
        return groups


class SubscribeForm(ComponentChoicesMixin, forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        error_messages={"invalid": _("Enter a valid email address, such as name@example.com.")},
    )
    components = ComponentsField(
        label=_("Components"),
        help_text=_("Tick none to hear about everything."),
        queryset=Component.objects.none(),
        required=False,
    )
    language = forms.ChoiceField(label=_("Language of the emails"), choices=language_choices)
    # The honeypot: hidden from people by CSS, filled in by bots.
    website = forms.CharField(required=False, label=_("Leave this empty"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].queryset = public_components()


class PreferencesForm(ComponentChoicesMixin, forms.Form):
    components = ComponentsField(
        label=_("Components"),
        help_text=_("Tick none to hear about everything."),
        queryset=Component.objects.none(),
        required=False,
    )
    language = forms.ChoiceField(label=_("Language of the emails"), choices=language_choices)

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

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        check_webhook_url(url)
        return url
