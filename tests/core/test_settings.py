"""Settings come from environment variables; a bad value stops start-up naming the variable."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from statuspage.env import parse_database_url

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "not a url"),
        ("DATABASE_URL", "postgres://host:notaport/db"),
        ("DATABASE_URL", "postgres://host:5432/"),
        ("EMAIL_PORT", "twenty-five"),
        ("TIME_ZONE", "Mars/Olympus_Mons"),
        ("CELERY_BROKER_URL", "carrier-pigeon://coop"),
    ],
)
def test_a_bad_value_stops_start_up_with_the_variables_name(name, value):
    result = manage("check", **{name: value})
    assert result.returncode != 0
    assert f"{name}=" in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="false",
        HTTPS="true",
        ALLOWED_HOSTS="status.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_https_the_deploy_check_warns():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="false",
        ALLOWED_HOSTS="status.example.com",
    )
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT" in result.stderr + result.stdout


def test_a_postgres_url_becomes_a_database_entry():
    entry = parse_database_url(
        "DATABASE_URL", "postgres://u:p%40ss@db.internal:6432/status?sslmode=require"
    )
    assert entry["ENGINE"] == "django.db.backends.postgresql"
    assert (entry["USER"], entry["PASSWORD"], entry["HOST"], entry["PORT"], entry["NAME"]) == (
        "u",
        "p@ss",
        "db.internal",
        "6432",
        "status",
    )
    assert entry["OPTIONS"] == {"sslmode": "require"}


def test_a_sqlite_url_names_a_file():
    assert (
        parse_database_url("DATABASE_URL", "sqlite:////tmp/x.sqlite3")["NAME"] == "/tmp/x.sqlite3"
    )
    assert parse_database_url("DATABASE_URL", "sqlite:///var/x.sqlite3")["NAME"] == "var/x.sqlite3"
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        parse_database_url("DATABASE_URL", "mysql://x/y")
