"""Django settings. Every value can be overridden by an environment variable of the same name;
with none set, everything runs embedded under var/ (SQLite, a filesystem Celery broker).

One module, as the project's settings convention asks (every value from an environment variable
of the same name): over 400 lines because each value sits with its variable and its reason.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from statuspage.env import (
    env_bool,
    env_int,
    env_list,
    env_networks,
    env_str,
    parse_database_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not env_bool("EMBEDDED_SECRET_KEY", True):
        raise ImproperlyConfigured("SECRET_KEY is not set")
    # Embedded default: a random key kept under var/ so sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        import secrets

        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env_str("SITE_NAME", "Lending Platform Status")
# The site's name in the second language of LANGUAGES (empty: SITE_NAME in both).
SITE_NAME_ALT = env_str("SITE_NAME_ALT", "借贷平台服务状态")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "statuspage",
    "statuspage.subscriptions",
    "statuspage.channels",
    "monitors",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "statuspage.nul_bytes.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "statuspage.public.fallback.SnapshotFallbackMiddleware",
    "monitors.stall.StallWatchMiddleware",
    "statuspage.headers.SecurityHeadersMiddleware",
    # A kept public page answers here, before the session and everything after it runs
    # (statuspage.public.early_answers); the middleware above still runs on its answer.
    "statuspage.public.early_answers.PublicCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "statuspage.console.two_factor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "statuspage.urls"
WSGI_APPLICATION = "statuspage.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "statuspage.context_processors.site",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": parse_database_url("DATABASE_URL", DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "statuspage.sqlite3",
        }
    }
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web server read while a worker writes; the wait absorbs short write bursts.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so that worker processes started by the integration tests share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHE_URL = env_str("CACHE_URL")
# A Redis outage degrades to cache misses (statuspage.cache_backend), never to errors; the
# timeouts keep a Redis that hangs from holding every request up.
CACHE_SOCKET_TIMEOUT_MS = env_int("CACHE_SOCKET_TIMEOUT_MS", 500, minimum=1)
# "public" holds rendered public responses (statuspage.public.caching), "default" the rest
# (rate limits).
if CACHE_URL.startswith("redis://"):
    _redis_cache = {
        "BACKEND": "statuspage.cache_backend.ForgivingRedisCache",
        "LOCATION": CACHE_URL,
        "OPTIONS": {
            "socket_connect_timeout": CACHE_SOCKET_TIMEOUT_MS / 1000,
            "socket_timeout": CACHE_SOCKET_TIMEOUT_MS / 1000,
        },
    }
    CACHES = {"default": _redis_cache, "public": _redis_cache}
else:
    CACHES = {
        # Embedded: the database, shared by the web server's and the workers' processes, so
        # that limits hold across them (a per-process memory cache multiplied every limit by
        # the processes). Its table is created by migrate (statuspage migration 0003).
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "statuspage_cache",
        },
        # Responses are keyed by the public version, so a per-process copy is never stale; in
        # memory, rendering a page costs no database writes.
        "public": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
# Failed log-ins (console and admin) within the window lock further attempts for that user
# name, or from that address, until the oldest failure leaves the window.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env_int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", 20, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 900, minimum=1)
LOGIN_REDIRECT_URL = "console:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except Exception:
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not a known time zone") from None

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start without it
STATICFILES_DIRS = [BASE_DIR / "statuspage" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env_bool("STATIC_MANIFEST", False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Email: files under var/mail by default; real SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "status@localhost")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = Path(env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail")))
STAFF_NOTIFY_EMAILS = env_list("STAFF_NOTIFY_EMAILS", [])

# Celery: a broker that needs no server by default (kombu's filesystem transport under var/).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.split("://", 1)[0] not in {
    "filesystem",
    "redis",
    "rediss",
    "amqp",
    "pyamqp",
    "memory",
}:
    raise ImproperlyConfigured(
        f"CELERY_BROKER_URL={CELERY_BROKER_URL!r}: use redis://, amqp:// or filesystem://"
    )
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "broker"
    for sub in ("out", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False

# Probing
PROBE_VANTAGE_POINTS = env_list("PROBE_VANTAGE_POINTS", ["local"])
RESULT_RETENTION_DAYS = env_int("RESULT_RETENTION_DAYS", 14, minimum=1)

# Public site
# The static snapshot: on by default; STATIC_SNAPSHOT_DIR= (empty) turns it off.
STATIC_SNAPSHOT_DIR = env_str("STATIC_SNAPSHOT_DIR", str(VAR_DIR / "snapshot"))
# Statuspage API page id, and HTTP caching of public responses (statuspage.public.caching).
PAGE_ID = env_str("PAGE_ID", "lendingstatus")
PUBLIC_CACHE_MAX_AGE = env_int("PUBLIC_CACHE_MAX_AGE", 15, minimum=0)
PUBLIC_CACHE_STALE_WHILE_REVALIDATE = env_int("PUBLIC_CACHE_STALE_WHILE_REVALIDATE", 60, minimum=0)
PUBLIC_CACHE_STALE_IF_ERROR = env_int("PUBLIC_CACHE_STALE_IF_ERROR", 86400, minimum=0)
PUBLIC_CACHE_TIMEOUT = env_int("PUBLIC_CACHE_TIMEOUT", 300, minimum=1)
# How long a process trusts the version it last read (0: read it on every request).
PUBLIC_VERSION_TTL_MS = env_int("PUBLIC_VERSION_TTL_MS", 1000, minimum=0)
# Entries (a representation, or the headers noted for a page) each web process keeps in memory
# in front of the shared cache (0: none).
PUBLIC_NEAR_CACHE_SIZE = env_int("PUBLIC_NEAR_CACHE_SIZE", 256, minimum=0)
# Public pages: where borrowers get help when the platform works but borrowing does not (a URL,
# and a contact such as a phone number); shown by the "is it me or the system?" panel.
HELP_URL = env_str("HELP_URL", "")
HELP_CONTACT = env_str("HELP_CONTACT", "")

# GET /metrics (statuspage.metrics): open to loopback and these networks, elsewhere only with
# `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_NETWORKS = env_networks("METRICS_ALLOWED_NETWORKS", [])

# Production hardening: HTTPS=true turns on every HTTPS-only setting (each stays overridable by
# its own variable); with the documented production variables `check --deploy` has no warnings.
HTTPS = env_bool("HTTPS", False)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
# Responders and admins must sign in with a second factor (TOTP, or a recovery code); off in
# `make run`, on with HTTPS. API tokens are not affected.
STAFF_2FA_REQUIRED = env_bool("STAFF_2FA_REQUIRED", HTTPS)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", SITE_NAME)
# The admin never shows a second factor's secret or QR code, nor recovery codes: only their user
# sees them, once, when enrolling.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# On every HTML page (statuspage.headers): scripts and styles from the site's own files only,
# so an injected inline script or style would not run. CONTENT_SECURITY_POLICY= turns it off.
CONTENT_SECURITY_POLICY = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# One schedule: each entry dispatches work that is due; nothing per probe. Any number of beats
# may run (one per machine): only the holder of a lease in the database sends, and another takes
# over within BEAT_LEASE_SECONDS * 4 / 3 of the holder dying (monitors.beat). Every entry is safe
# to run twice (see the README).
CELERY_BEAT_SCHEDULER = "monitors.beat:LeasedScheduler"
BEAT_LEASE_SECONDS = env_int("BEAT_LEASE_SECONDS", 15, minimum=3)
CELERY_BEAT_SCHEDULE = {
    "advance-maintenance-windows": {
        "task": "statuspage.tasks.advance_maintenance_windows",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "refresh-static-snapshot": {
        "task": "statuspage.public.tasks.refresh_snapshot",
        "schedule": 5.0,
        "options": {"expires": 5},
    },
}

# Recurring maintenance (statuspage.recurrence): occurrences exist this many days ahead.
RECURRENCE_HORIZON_DAYS = env_int("RECURRENCE_HORIZON_DAYS", 35, minimum=1)
CELERY_BEAT_SCHEDULE["extend-maintenance-series"] = {
    "task": "statuspage.tasks.extend_maintenance_series",
    "schedule": 3600.0,
    "options": {"expires": 600},
}

# Token API: how long an Idempotency-Key's first answer is kept (statuspage.api.idempotency).
IDEMPOTENCY_KEY_HOURS = env_int("IDEMPOTENCY_KEY_HOURS", 24, minimum=1)
CELERY_BEAT_SCHEDULE["forget-idempotency-keys"] = {
    "task": "statuspage.tasks.forget_idempotency_keys",
    "schedule": 3600.0,
    "options": {"expires": 600},
}

# Subscriptions and notifications (statuspage.subscriptions)
MAINTENANCE_REMINDER_MINUTES = env_int("MAINTENANCE_REMINDER_MINUTES", 60, minimum=1)
NOTIFY_BATCH_SIZE = env_int("NOTIFY_BATCH_SIZE", 100, minimum=1)
NOTIFY_PARALLEL_SENDERS = env_int("NOTIFY_PARALLEL_SENDERS", 4, minimum=1)
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 10, minimum=1)
NOTIFY_RETRY_BASE_SECONDS = env_int("NOTIFY_RETRY_BASE_SECONDS", 30, minimum=1)
NOTIFY_RETRY_MAX_SECONDS = env_int("NOTIFY_RETRY_MAX_SECONDS", 3600, minimum=1)
NOTIFY_CLAIM_TIMEOUT = env_int("NOTIFY_CLAIM_TIMEOUT", 600, minimum=30)
WEBHOOK_CONNECT_TIMEOUT = env_int("WEBHOOK_CONNECT_TIMEOUT", 5, minimum=1)
WEBHOOK_READ_TIMEOUT = env_int("WEBHOOK_READ_TIMEOUT", 10, minimum=1)
WEBHOOK_DISABLE_AFTER = env_int("WEBHOOK_DISABLE_AFTER", 5, minimum=1)
# Staff hear "deliveries failing" (once per episode) when a subscriber delivery has waited this
# long with nothing of its channel sent since it was queued, or when the channel's last
# DELIVERIES_FAILING_COUNT finished deliveries all failed.
DELIVERIES_FAILING_AFTER_MINUTES = env_int("DELIVERIES_FAILING_AFTER_MINUTES", 10, minimum=1)
DELIVERIES_FAILING_COUNT = env_int("DELIVERIES_FAILING_COUNT", 5, minimum=1)
CELERY_BEAT_SCHEDULE["watch-deliveries"] = {
    "task": "statuspage.tasks.watch_deliveries",
    "schedule": 60.0,
    "options": {"expires": 55},
}
# Webhooks reach public https addresses only (statuspage.subscriptions.outbound). Internal
# ranges an operator opens on purpose, as CIDRs: "10.20.0.0/16,fd00:1::/64".
WEBHOOK_ALLOWED_NETWORKS = env_networks("WEBHOOK_ALLOWED_NETWORKS", [])
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", False)
SUBSCRIBE_RATE_PER_IP = env_int("SUBSCRIBE_RATE_PER_IP", 10, minimum=1)  # per hour
SUBSCRIBE_RATE_PER_ADDRESS = env_int("SUBSCRIBE_RATE_PER_ADDRESS", 3, minimum=1)  # per hour
CELERY_BEAT_SCHEDULE.update(
    {
        "sweep-notification-outbox": {
            "task": "statuspage.subscriptions.tasks.sweep_outbox",
            "schedule": 60.0,
            "options": {"expires": 55},
        },
        "forget-unconfirmed-subscribers": {
            "task": "statuspage.subscriptions.tasks.forget_unconfirmed",
            "schedule": 24 * 3600.0,
            "options": {"expires": 3600},
        },
    }
)

# Probes (monitors/): one dispatcher beat entry, confirmation, automatic incidents, history.
PROBE_DISPATCH_SECONDS = env_int("PROBE_DISPATCH_SECONDS", 2, minimum=1)
# Runs due within the next beat are claimed now and held by the worker until their slot (eta).
PROBE_DISPATCH_LOOKAHEAD_SECONDS = env_int(
    "PROBE_DISPATCH_LOOKAHEAD_SECONDS", PROBE_DISPATCH_SECONDS, minimum=0
)
PROBE_DISPATCH_BATCH = env_int("PROBE_DISPATCH_BATCH", 5000, minimum=1)
PROBE_MAX_TIMEOUT_SECONDS = env_int("PROBE_MAX_TIMEOUT_SECONDS", 60, minimum=1)
PROBE_DEADLINE_MARGIN_SECONDS = env_int("PROBE_DEADLINE_MARGIN_SECONDS", 5, minimum=1)
# Probe workers (monitors.runner): runs per `run_probes` message, checks in flight per worker
# process, and how results go to the recorder (a message per this many, or this old, in ms).
PROBE_RUNS_PER_MESSAGE = env_int("PROBE_RUNS_PER_MESSAGE", 200, minimum=1)
PROBE_THREADS = env_int("PROBE_THREADS", 20, minimum=1)
PROBE_RESULTS_PER_MESSAGE = env_int("PROBE_RESULTS_PER_MESSAGE", 500, minimum=1)
PROBE_RESULTS_FLUSH_SECONDS = env_int("PROBE_RESULTS_FLUSH_MS", 500, minimum=1) / 1000
AUTO_RESOLVE_QUIET_SECONDS = env_int("AUTO_RESOLVE_QUIET_SECONDS", 600, minimum=0)
# Subscribers hear of an automatic incident's escalation at most once per this many minutes.
ESCALATION_NOTIFY_MINUTES = env_int("ESCALATION_NOTIFY_MINUTES", 15, minimum=0)
ROLLUP_RETENTION_DAYS = env_int("ROLLUP_RETENTION_DAYS", 400, minimum=400)
# Celery's Django fixup closes a worker thread's database connection around every task unless
# this is set (then only every this many tasks): a probe run would pay a new PostgreSQL
# connection each time. statuspage.celery closes broken and CONN_MAX_AGE-old ones instead, as
# Django does between requests. 0 brings back a fresh connection per task.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000, minimum=0)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # An unacknowledged run (its worker died) goes back to the queue after this many seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)
    }
CELERY_BEAT_SCHEDULE.update(
    {
        "dispatch-due-probes": {
            "task": "monitors.tasks.dispatch_due_probes",
            "schedule": float(PROBE_DISPATCH_SECONDS),
            "options": {"expires": PROBE_DISPATCH_SECONDS},
        },
        "settle-automatic-incidents": {
            "task": "monitors.tasks.settle_automatic_incidents_task",
            "schedule": 15.0,
            "options": {"expires": 14},
        },
        "purge-probe-history": {
            "task": "monitors.tasks.purge_probe_history",
            "schedule": 24 * 3600.0,
            "options": {"expires": 3600},
        },
    }
)
# Monitoring has stalled when the dispatcher or a vantage point has been silent this long. Unset:
# max(120, 3 x the shortest enabled probe interval), computed when read (monitors.stall).
MONITORING_STALE_SECONDS = env_int("MONITORING_STALE_SECONDS", 0, minimum=10) or None
# Remote agents (statuspage.api.agents): how far ahead of the site's clock an agent's result may
# be dated before it is refused as "in the future" (clocks drift; NTP keeps them within a second).
AGENT_CLOCK_TOLERANCE_SECONDS = env_int("AGENT_CLOCK_TOLERANCE_SECONDS", 60, minimum=0)
# How often the stall watch looks (from the beat and, in case the beat is the thing that died,
# from web requests: see monitors.stall); 0 turns the web requests' watch off.
MONITORING_WATCH_SECONDS = env_int("MONITORING_WATCH_SECONDS", 10, minimum=0)
CELERY_BEAT_SCHEDULE["watch-monitoring"] = {
    "task": "monitors.tasks.watch_monitoring",
    "schedule": 10.0,
    "options": {"expires": 9},
}
# run_probes is sent to `probes.<vantage point>` explicitly, results to the recorder's queue;
# the rest run on the default queue.
CELERY_TASK_ROUTES = {
    **globals().get("CELERY_TASK_ROUTES", {}),
    "monitors.tasks.record_results": {"queue": "results"},
    "monitors.tasks.dispatch_due_probes": {"queue": "default"},
    "monitors.tasks.settle_automatic_incidents_task": {"queue": "default"},
    "monitors.tasks.purge_probe_history": {"queue": "default"},
    "monitors.tasks.watch_monitoring": {"queue": "default"},
}
