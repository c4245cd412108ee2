"""The `tcp` kind: can a connection to host:port be opened, and how fast?"""

from __future__ import annotations

import socket
import time

from monitors.checks.base import (
    Check,
    Outcome,
    describe_network_error,
    elapsed_ms,
    reject_unknown_keys,
    validate_host,
    validate_port,
)


class TcpCheck(Check):
    kind = "tcp"

    @classmethod
    def validate(cls, config: dict) -> dict:
        reject_unknown_keys(config, {"host", "port"})
        if "port" not in config:
            raise ValueError("port: required")
        return {"host": validate_host(config.get("host")), "port": validate_port(config["port"])}

    @classmethod
    def run(cls, config: dict, timeout: float, probe=None) -> Outcome:
        config = cls.validate(config)
        started = time.perf_counter()
        try:
            connection = socket.create_connection((config["host"], config["port"]), timeout=timeout)
        except OSError as exc:
            # No response time for a failed connection: it would only skew the latency charts.
            return Outcome(
                connected=False, error=describe_network_error(exc, timeout), kind=cls.kind
            )
        response_time = elapsed_ms(started)
        connection.close()
        return Outcome(connected=True, response_time_ms=response_time, kind=cls.kind)
