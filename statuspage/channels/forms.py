from __future__ import annotations

from django import forms
from django.core.validators import validate_email

from statuspage.channels.guard import unsafe_reason
from statuspage.channels.models import ChannelEvent, Kind, StaffChannel


class ChannelForm(forms.ModelForm):
    """A staff channel. The secret is write-only: never rendered back; left empty, the saved
    one is kept."""

    secret = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="DingTalk's SEC… signing secret, Feishu's signature key, or the webhook's "
        "HMAC key. Never shown again; leave empty to keep the saved one.",
    )
    events = forms.MultipleChoiceField(
        choices=ChannelEvent.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    clear_secret = forms.BooleanField(required=False, label="Remove the saved secret")

    class Meta:
        model = StaffChannel
        fields = ["name", "kind", "url", "secret", "language", "events", "is_enabled"]
        labels = {"url": "Webhook URL or email address", "is_enabled": "Enabled"}
        help_texts = {
            "url": "The robot's webhook URL (e.g. https://oapi.dingtalk.com/robot/send?"
            "access_token=…), or an email address for the email kind."
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            del self.fields["clear_secret"]
        elif self.instance.shown_url != self.instance.url:
            # A robot URL's query string is its access token: write-only, like the secret.
            self.initial["url"] = ""
            self.fields["url"].required = False
            self.fields["url"].help_text = (
                f"Saved: {self.instance.shown_url} (its token is not shown). "
                "Leave empty to keep it, or paste the whole new URL."
            )

    def clean(self):
        cleaned = super().clean()
        kind, url = cleaned.get("kind"), (cleaned.get("url") or "").strip()
        if not url and self.instance.pk is not None:
            url = self.instance.url
        if kind == Kind.EMAIL:
            try:
                validate_email(url)
            except forms.ValidationError:
                self.add_error("url", "Enter the email address to send to.")
        elif url:
            reason = unsafe_reason(url)
            if reason:
                self.add_error("url", reason)
        cleaned["url"] = url
        return cleaned

    def save(self, commit: bool = True) -> StaffChannel:
        channel = super().save(commit=False)
        new_secret = self.cleaned_data.get("secret", "")
        if self.cleaned_data.get("clear_secret"):
            channel.secret = ""
        elif not new_secret and self.instance.pk is not None:
            channel.secret = StaffChannel.objects.get(pk=self.instance.pk).secret
        if commit:
            channel.save()
        return channel
