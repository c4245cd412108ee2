"""The `tls` kind: the certificate a server presents, its expiry, hostname match and chain.

The handshake is first made with full verification. If that fails because of the certificate,
a second handshake with verification off reads the certificate anyway, so that an expired or
self-signed certificate gives an outcome with the facts (days left, which check failed), not
an exception.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from datetime import UTC, datetime

from monitors.checks.base import (
    Check,
    Outcome,
    describe_network_error,
    elapsed_ms,
    reject_unknown_keys,
    short,
    validate_bool,
    validate_host,
    validate_port,
)

# OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH: the chain verified, only the name is wrong.
HOSTNAME_MISMATCH = 62


class TlsCheck(Check):
    kind = "tls"

    @classmethod
    def validate(cls, config: dict) -> dict:
        reject_unknown_keys(config, {"host", "port", "server_name", "verify_tls", "ca_bundle"})
        host = validate_host(config.get("host"))
        server_name = config.get("server_name") or host
        ca_bundle = config.get("ca_bundle")
        if ca_bundle is not None and (not isinstance(ca_bundle, str) or not ca_bundle):
            raise ValueError("ca_bundle: expected the path of a PEM file")
        return {
            "host": host,
            "port": validate_port(config.get("port", 443)),
            "server_name": validate_host(server_name, "server_name"),
            "verify_tls": validate_bool(config.get("verify_tls", True), "verify_tls"),
            "ca_bundle": ca_bundle,
        }

    @classmethod
    def run(cls, config: dict, timeout: float, probe=None) -> Outcome:
        config = cls.validate(config)
        started = time.perf_counter()
        deadline = started + timeout
        try:
            strict = ssl.create_default_context(cafile=config["ca_bundle"])
        except (OSError, ssl.SSLError) as exc:
            return Outcome(connected=False, error=short(f"ca_bundle: {exc}"), kind=cls.kind)
        chain_ok = hostname_ok = True
        reason = ""
        try:
            der = _handshake(config, strict, timeout)
        except ssl.SSLCertVerificationError as exc:
            reason = exc.verify_message or str(exc.reason)
            hostname_ok = False if exc.verify_code == HOSTNAME_MISMATCH else None
            chain_ok = exc.verify_code == HOSTNAME_MISMATCH
            der = None
        except OSError as exc:
            return Outcome(
                connected=False, error=describe_network_error(exc, timeout), kind=cls.kind
            )
        response_time = elapsed_ms(started)
        if der is None:
            lenient = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            lenient.check_hostname = False
            lenient.verify_mode = ssl.CERT_NONE
            try:
                der = _handshake(config, lenient, max(deadline - time.perf_counter(), 0.1))
            except OSError as exc:
                return Outcome(
                    connected=False, error=describe_network_error(exc, timeout), kind=cls.kind
                )
        from cryptography import x509

        certificate = x509.load_der_x509_certificate(der)
        if hostname_ok is None:
            hostname_ok = certificate_matches(certificate, config["server_name"])
        expires_in = (certificate.not_valid_after_utc - datetime.now(UTC)).total_seconds()
        details = {
            "days_left": int(
                expires_in / 86400
            ),  # whole days, toward zero: -2 = expired 2 days ago
            "not_after": certificate.not_valid_after_utc.isoformat(),
            "hostname_ok": hostname_ok,
            "chain_ok": chain_ok,
            "subject": certificate.subject.rfc4514_string(),
            "issuer": certificate.issuer.rfc4514_string(),
        }
        # A client that verifies (every borrower's app) cannot use a server whose certificate
        # fails verification: like Gatus, that counts as not connected, unless the probe was
        # told not to verify (an internal endpoint with a private CA, say). Then what OpenSSL
        # said is a fact about the certificate, not an error of a run that passed.
        connected = not reason or not config["verify_tls"]
        # OpenSSL's own words: "certificate has expired", "self-signed certificate", "Hostname
        # mismatch, certificate is not valid for 'x'".
        error = short(f"certificate verify failed: {reason}") if reason and not connected else ""
        if reason and connected:
            details["not_verified_because"] = short(reason)
        return Outcome(
            connected=connected,
            response_time_ms=response_time,
            certificate_expires_in_s=expires_in,
            error=error,
            details=details,
            kind=cls.kind,
        )


def _handshake(config: dict, context: ssl.SSLContext, timeout: float) -> bytes:
    with socket.create_connection((config["host"], config["port"]), timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname=config["server_name"]) as tls:
            return tls.getpeercert(binary_form=True)


def certificate_matches(certificate, server_name: str) -> bool:
    """Does the certificate name `server_name` in its subject alternative names (RFC 6125)?

    Only used when the chain did not verify (OpenSSL then reports the chain error, not the
    name); a wildcard covers exactly one left-most label.
    """
    from cryptography import x509

    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    try:
        address = ipaddress.ip_address(server_name)
    except ValueError:
        address = None
    if address is not None:
        return address in names.get_values_for_type(x509.IPAddress)
    wanted = server_name.rstrip(".").lower().split(".")
    for pattern in names.get_values_for_type(x509.DNSName):
        labels = pattern.rstrip(".").lower().split(".")
        if len(labels) != len(wanted):
            continue
        if labels == wanted or (labels[0] == "*" and labels[1:] == wanted[1:]):
            return True
    return False
