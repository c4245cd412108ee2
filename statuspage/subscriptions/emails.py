"""Email content: each email is a subject / text / HTML template triple under
templates/emails/, rendered in the recipient's language.

Rendering is done once per (notification, language); the per-recipient links are put in
afterwards by string replacement, which is what makes 10,000 emails cheap to build."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import translation

from statuspage.context_processors import site_name
from statuspage.markdown import render_markdown
from statuspage.subscriptions import links
from statuspage.subscriptions.models import Delivery, Notification

# Stand-ins for the recipient's own links, replaced in the rendered text.
MANAGE_MARK = "https://manage.invalid/MANAGE"
UNSUBSCRIBE_MARK = "https://manage.invalid/UNSUBSCRIBE"
CONFIRM_MARK = "https://manage.invalid/CONFIRM"

TEMPLATE_FOR = {
    Notification.Kind.SUBSCRIPTION_CONFIRM: "subscription_confirm",
    Notification.Kind.SUBSCRIPTION_EXISTING: "subscription_existing",
    Notification.Kind.STAFF_ALERT: "staff_alert",
    Notification.Kind.MAINTENANCE_REMINDER: "maintenance",
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def message_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def pick(primary: str, alternative: str, language: str) -> str:
    """The text in `language`: the `_alt` field is the second language's version."""
    if alternative and not language.startswith(settings.LANGUAGE_CODE[:2]):
        return alternative
    return primary


def template_name(notification: Notification, to_staff: bool) -> str:
    if to_staff:
        return "staff_alert"
    if notification.kind in TEMPLATE_FOR:
        return TEMPLATE_FOR[notification.kind]
    return "incident" if notification.kind.startswith("incident") else "maintenance"


def context_for(notification: Notification, language: str, to_staff: bool) -> dict:
    context = {
        "kind": notification.kind,
        # Staff alerts go out in LANGUAGE_CODE, so they name the site as the console does.
        "site_name": site_name(language),
        "site_url": settings.SITE_URL,
        "manage_url": MANAGE_MARK,
        "unsubscribe_url": UNSUBSCRIBE_MARK,
        "confirm_url": CONFIRM_MARK,
        "to_staff": to_staff,
    }
    if notification.kind == Notification.Kind.STAFF_ALERT:
        context.update(subject=notification.subject, body=notification.body)
    incident = notification.incident
    if incident is not None:
        update = notification.event.incident_update if notification.event else None
        update = update or incident.updates.order_by("-display_at", "-id").first()
        body = pick(update.body, update.body_alt, language) if update else ""
        context.update(
            incident=incident,
            page_url=f"{settings.SITE_URL}/incidents/{incident.pk}",
            title=pick(incident.title, incident.title_alt, language),
            status_label=update.get_status_display() if update else incident.get_status_display(),
            body_text=body,
            body_html=render_markdown(body),
            # Staff alerts name every component; subscribers only the public ones.
            components=[
                pick(link.component.name, link.component.name_alt, language)
                for link in incident.affected.select_related("component")
                if to_staff or link.component.is_public
            ],
        )
        if to_staff:
            context.update(
                subject=f"Automatic incident opened: {incident.title}",
                body=f"{incident.title}\n\n{body}\n\n{settings.SITE_URL}/console/",
            )
    maintenance = notification.maintenance
    if maintenance is not None:
        update = notification.event.maintenance_update if notification.event else None
        body = pick(maintenance.description, maintenance.description_alt, language)
        if update is not None and update.body:
            body = pick(update.body, update.body_alt, language)
        context.update(
            maintenance=maintenance,
            page_url=f"{settings.SITE_URL}/maintenance/{maintenance.pk}",
            title=pick(maintenance.title, maintenance.title_alt, language),
            body_text=body,
            body_html=render_markdown(body),
            components=[
                pick(name, name_alt, language)
                for name, name_alt in maintenance.components.public().values_list(
                    "name", "name_alt"
                )
            ],
            reminder_minutes=settings.MAINTENANCE_REMINDER_MINUTES,
        )
    return context


def render_plain(template: str, context: dict) -> str:
    """A subject or text body: plain text, so nothing in it is HTML-escaped ("Mobile app &
    API gateway", not "&amp;"), whether or not the template remembers `{% autoescape off %}`."""
    return get_template(template).template.render(Context(context, autoescape=False))


def render(notification: Notification, language: str, to_staff: bool = False) -> Rendered:
    """The notification's email in `language`, with placeholder links: the subject and the
    text body as plain text, the HTML body escaped for HTML."""
    name = template_name(notification, to_staff)
    with translation.override(language):
        context = context_for(notification, language, to_staff)
        subject = render_plain(f"emails/{name}_subject.txt", context)
        text = render_plain(f"emails/{name}_body.txt", context)
        html = render_to_string(f"emails/{name}_body.html", context)
    return Rendered(" ".join(subject.split()), text, html)


def build_message(delivery: Delivery, rendered: Rendered, connection) -> EmailMultiAlternatives:
    """The email for one delivery: its own links, Message-ID and threading headers."""
    domain = message_domain()
    text, html = rendered.text, rendered.html
    headers = {
        "Message-ID": make_msgid(idstring=f"d{delivery.pk}", domain=domain),
        # Every email about one incident or maintenance replies to the same root id, so mail
        # clients thread them even when the first one was never received.
        "In-Reply-To": f"<{delivery.notification.thread_key}@{domain}>",
        "References": f"<{delivery.notification.thread_key}@{domain}>",
    }
    subscriber = delivery.subscriber
    if subscriber is not None:
        unsubscribe = links.unsubscribe_url(subscriber)
        replacements = {
            MANAGE_MARK: links.manage_url(subscriber),
            UNSUBSCRIBE_MARK: unsubscribe,
        }
        if CONFIRM_MARK in text:
            replacements[CONFIRM_MARK] = links.confirm_url(subscriber)
        for mark, url in replacements.items():
            text = text.replace(mark, url)
            html = html.replace(mark, url)
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.address],
        headers=headers,
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    return message
