"""The `dns` kind: ask a resolver for a name with dnspython; report the rcode and the answers."""

from __future__ import annotations

import ipaddress
import time

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver

from monitors.checks.base import (
    Check,
    Outcome,
    describe_network_error,
    elapsed_ms,
    reject_unknown_keys,
    require_text,
    validate_port,
)


class DnsCheck(Check):
    kind = "dns"
    default_conditions = ({"condition": "[DNS_RCODE] == NOERROR", "severity": "major_outage"},)

    @classmethod
    def validate(cls, config: dict) -> dict:
        reject_unknown_keys(config, {"name", "record_type", "resolver", "resolver_port"})
        name = require_text(config, "name")
        try:
            dns.name.from_text(name)
        except dns.exception.DNSException as exc:
            raise ValueError(f"name: not a valid DNS name ({exc})") from None
        record_type = str(config.get("record_type", "A")).strip().upper()
        try:
            dns.rdatatype.from_text(record_type)
        except dns.exception.DNSException:
            raise ValueError(f"record_type: unknown DNS record type {record_type!r}") from None
        resolver = config.get("resolver")
        if resolver is not None:
            try:
                resolver = str(ipaddress.ip_address(str(resolver).strip()))
            except ValueError:
                raise ValueError(f"resolver: expected an IP address, not {resolver!r}") from None
        return {
            "name": name,
            "record_type": record_type,
            "resolver": resolver,
            "resolver_port": validate_port(config.get("resolver_port", 53), "resolver_port"),
        }

    @classmethod
    def run(cls, config: dict, timeout: float, probe=None) -> Outcome:
        config = cls.validate(config)
        query = dns.message.make_query(config["name"], config["record_type"])
        if config["resolver"]:
            servers = [(config["resolver"], config["resolver_port"])]
        else:
            # The system resolver's servers, queried directly so that the rcode is ours to see
            # (dnspython's stub resolver turns NXDOMAIN and SERVFAIL into exceptions).
            try:
                system = dns.resolver.Resolver()
            except dns.exception.DNSException as exc:  # no usable /etc/resolv.conf
                return Outcome(connected=False, error=f"no system resolver: {exc}", kind=cls.kind)
            servers = [(server, system.port) for server in system.nameservers]
        started = time.perf_counter()
        deadline = started + timeout
        error = "no resolver configured"
        for server, port in servers:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                error = f"timed out after {timeout:g}s"
                break
            try:
                response, _ = dns.query.udp_with_fallback(
                    query, server, timeout=remaining, port=port
                )
            except dns.exception.Timeout:
                error = f"timed out after {timeout:g}s"
                continue
            except OSError as exc:
                error = describe_network_error(exc, timeout)
                continue
            except dns.exception.DNSException as exc:
                error = f"bad answer from {server}: {exc}"
                continue
            return _outcome(cls.kind, response, config, elapsed_ms(started))
        return Outcome(connected=False, error=error, kind=cls.kind)


def _outcome(kind: str, response: dns.message.Message, config: dict, took_ms: float) -> Outcome:
    rcode = dns.rcode.to_text(response.rcode())
    wanted = dns.rdatatype.from_text(config["record_type"])
    answers = [
        rdata.to_text() for rrset in response.answer if rrset.rdtype == wanted for rdata in rrset
    ]
    error = ""
    if rcode != "NOERROR":
        error = rcode
    elif not answers:
        error = f"no {config['record_type']} records"
    return Outcome(
        connected=True,
        response_time_ms=took_ms,
        dns_rcode=rcode,
        # Like Gatus, the answers stand in for [BODY]: one per line.
        body="\n".join(answers),
        error=error,
        details={"answers": answers},
        kind=kind,
    )
