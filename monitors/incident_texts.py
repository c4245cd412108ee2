"""What automatic incidents say to borrowers, in both languages, through gettext.

Plain words: what a borrower can or cannot do (the journeys that need the failing
component), since when, and what else is affected. Probe names, conditions, values seen and
vantage points never appear here: they go to staff (an internal note, staff alerts).

Each function returns the text in the site's first language and in its second (the `*_alt`
fields), rendered with `translation.override` so that both come from the catalogue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, pgettext

from statuspage import status as rules
from statuspage.models import Component, Journey, Maintenance
from statuspage.times import moment


def languages() -> tuple[str, str]:
    codes = [code for code, _ in settings.LANGUAGES]
    return codes[0], codes[1] if len(codes) > 1 else codes[0]


def both(render: Callable[[bool], str]) -> tuple[str, str]:
    """`render(use_alt)` in the first and in the second language."""
    first, second = languages()
    with translation.override(first):
        primary = render(False)
    with translation.override(second):
        alternative = render(True)
    return primary, alternative


def name(component: Component, use_alt: bool) -> str:
    return component.name_alt if use_alt and component.name_alt else component.name


def listing(items: Iterable[str]) -> str:
    return pgettext("between items of a list", ", ").join(items)


def severity(status: str) -> str:
    return {
        rules.DEGRADED: pgettext("automatic incident", "degraded performance"),
        rules.PARTIAL: pgettext("automatic incident", "partial outage"),
        rules.MAJOR: pgettext("automatic incident", "major outage"),
    }.get(status, pgettext("automatic incident", "partial outage"))


def state_phrase(status: str) -> str:
    """How a component is, inside a sentence."""
    return {
        rules.DEGRADED: gettext("slow (degraded performance)"),
        rules.PARTIAL: gettext("partly down (partial outage)"),
        rules.MAJOR: gettext("down (major outage)"),
    }.get(status, gettext("partly down (partial outage)"))


def what_it_means(status: str, journeys: list[str]) -> str:
    """What a borrower can or cannot do, by how bad it is."""
    if not journeys:
        return ""
    values = {"journeys": listing(journeys)}
    if status == rules.MAJOR:
        return gettext("Not working right now: %(journeys)s.") % values
    if status == rules.PARTIAL:
        return gettext("May fail right now: %(journeys)s.") % values
    return gettext("May be slow right now: %(journeys)s.") % values


def journeys_needing(components: Iterable[Component]) -> list[Journey]:
    ids = [c.pk for c in components]
    return list(Journey.objects.filter(components__in=ids).distinct().order_by("position", "name"))


def title(root: Component) -> tuple[str, str]:
    """The title names the root cause and its current severity."""
    return both(
        lambda alt: (
            pgettext("automatic incident title", "%(component)s: %(severity)s")
            % {"component": name(root, alt), "severity": severity(root.auto_status)}
        )
    )


def opened(
    root: Component,
    dependents: list[Component],
    since: datetime,
    *,
    reopening: bool = False,
    overran: Maintenance | None = None,
) -> tuple[str, str]:
    """The first update (or the one that reopens a recovering incident)."""
    journeys = journeys_needing([root, *dependents])

    def render(alt: bool) -> str:
        values = {"component": name(root, alt), "since": moment(since)}
        if reopening:
            lines = [gettext("**%(component)s** has been failing again since %(since)s.") % values]
        else:
            lines = [
                gettext("**%(component)s** has not been working normally since %(since)s.") % values
            ]
        if overran is not None:
            lines.append(
                gettext(
                    "The maintenance work overran its window, which ended at %(end)s; "
                    "we are investigating."
                )
                % {"end": moment(overran.ends_at)}
            )
        meaning = what_it_means(root.auto_status, [name(j, alt) for j in journeys])
        if meaning:
            lines.append(meaning)
        if dependents:
            lines.append(
                gettext("Also affected: %(names)s.")
                % {"names": listing(name(d, alt) for d in dependents)}
            )
        if overran is None:
            lines.append(gettext("We are investigating."))
        return "\n\n".join(lines)

    return both(render)


def changed(
    root: Component,
    dependents: list[Component],
    added: list[Component],
    worse: bool,
    now: datetime,
) -> tuple[str, str]:
    """The update that tells an escalation (worse, or more affected) or an improvement."""
    journeys = journeys_needing([root, *dependents])

    def render(alt: bool) -> str:
        values = {
            "component": name(root, alt),
            "state": state_phrase(root.auto_status),
            "time": moment(now),
        }
        if worse:
            text = gettext("Since %(time)s the problem is worse: **%(component)s** is %(state)s.")
        else:
            text = gettext("Since %(time)s it is better: **%(component)s** is %(state)s.")
        lines = [text % values]
        meaning = what_it_means(root.auto_status, [name(j, alt) for j in journeys])
        if meaning:
            lines.append(meaning)
        if added:
            lines.append(
                gettext("Now also affected: %(names)s.")
                % {"names": listing(name(d, alt) for d in added)}
            )
        lines.append(gettext("We are still investigating."))
        return "\n\n".join(lines)

    return both(render)


def working_again(root: Component, now: datetime) -> tuple[str, str]:
    return both(
        lambda alt: (
            gettext("**%(component)s** works again since %(time)s. We are monitoring the fix.")
            % {"component": name(root, alt), "time": moment(now)}
        )
    )


def resolved(root: Component, minutes: int) -> tuple[str, str]:
    return both(
        lambda alt: (
            gettext(
                "**%(component)s** has worked normally for %(minutes)d minutes. "
                "This incident is resolved."
            )
            % {"component": name(root, alt), "minutes": minutes}
        )
    )


def folded(component: Component, root: Component) -> tuple[str, str]:
    """A dependent's incident closed in favour of its root cause's."""
    if root.is_public or not component.is_public:
        return both(
            lambda alt: (
                gettext(
                    "The problem with **%(component)s** is caused by **%(root)s**; "
                    "updates continue in the incident about it."
                )
                % {"component": name(component, alt), "root": name(root, alt)}
            )
        )
    # A public incident never names an internal component, nor points to its incident.
    return both(
        lambda alt: (
            gettext(
                "The problem with **%(component)s** comes from a supporting system that we are "
                "working on; the component's status on this page shows when it is fixed."
            )
            % {"component": name(component, alt)}
        )
    )
