"""A small lending platform for the page tests: what a borrower uses, a credit bureau it
depends on, an internal-only component, and the four journeys of the self-check panel.

Internal-only things carry SECRET in their names so a test can assert they never show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.test import Client

from statuspage import actions
from statuspage.models import Component, ComponentGroup, Journey

SECRET = "SECRET"


@dataclass
class Platform:
    gateway: Component
    bureau: Component
    limit: Component
    application: Component
    disbursement: Component
    repayment: Component
    internal: Component


def platform(extra_components: int = 0) -> Platform:
    lending = ComponentGroup.objects.create(
        name="Lending system", name_alt="借贷系统", slug="lending", position=0
    )
    bureaus = ComponentGroup.objects.create(
        name="Credit bureaus", name_alt="征信接口", slug="bureaus", position=1
    )

    def make(slug, name, name_alt, group, position, depends_on=(), **fields) -> Component:
        component = Component.objects.create(
            slug=slug, name=name, name_alt=name_alt, group=group, position=position, **fields
        )
        component.depends_on.set(depends_on)
        return component

    internal = make("risk-db", f"{SECRET} risk database", "", None, 0, is_public=False)
    bureau = make("pboc", "Central bank credit reference", "人行征信中心", bureaus, 0)
    gateway = make("gateway", "API gateway", "API 网关", lending, 0)
    limit = make(
        "limit", "Credit limit engine", "额度引擎", lending, 1, [gateway, bureau, internal]
    )
    application = make("apply", "Loan application", "借款申请", lending, 2, [gateway, limit])
    disbursement = make("disburse", "Disbursement", "放款", lending, 3, [gateway])
    repayment = make("repay", "Repayment", "还款", lending, 4, [gateway])
    for index in range(extra_components):
        make(f"extra-{index}", f"Extra service {index}", f"附加服务 {index}", lending, 10 + index)
    for position, (slug, name, name_alt, uses) in enumerate(
        [
            ("apply", "Apply for a loan", "申请借款", [application, limit]),
            ("limit", "See my credit limit", "查看我的额度", [limit]),
            ("receive", "Receive the money", "收到借款", [disbursement]),
            ("repay", "Repay", "还款", [repayment]),
        ]
    ):
        journey = Journey.objects.create(slug=slug, name=name, name_alt=name_alt, position=position)
        journey.components.set(uses)
    return Platform(gateway, bureau, limit, application, disbursement, repayment, internal)


def open_incident(components: dict, now: datetime, **fields):
    fields.setdefault("title", "Credit checks failing")
    fields.setdefault("body", "Checks against the bureau **time out**.")
    return actions.open_incident(actor=None, via="system", components=components, now=now, **fields)


def get(path: str, language: str = "en", client: Client | None = None) -> str:
    response = (client or Client()).get(path, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.status_code
    return response.content.decode()
