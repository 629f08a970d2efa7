"""Settings: one environment-driven module with safe defaults.

Every value comes from the environment (or a `.env` file beside manage.py); `.env.example` lists each one.
With nothing set, the site runs embedded: a SpatiaLite file under `var/`, a private Redis on a unix socket
under `var/` (started by `make run`), django-q2 on the ORM broker. `DATABASE_URL` and `REDIS_URL` move it to
PostGIS and a shared Redis without a code change. A bad value stops start-up with a message naming it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import django.conf.locale
import environ
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from bukaamanzi.lib.geo import SOUTH_AFRICA
from bukaamanzi.lib.ratelimit import parse_rate
from bukaamanzi.observability.logs import FORMATS as LOG_FORMATS
from bukaamanzi.observability.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _setting(name: str, cast: type, default: object) -> object:
    """Read one variable; a value that does not parse names the variable instead of a bare traceback."""
    if cast is bool and name in env.ENVIRON:
        # django-environ reads any unknown word as False; a typo in a switch must not pass silently.
        raw = env.str(name).strip().lower()
        if raw not in _TRUE | _FALSE:
            raise ImproperlyConfigured(f"Environment variable {name} must be true or false, not {raw!r}")
        return raw in _TRUE
    try:
        return env(name, cast=cast, default=default)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"Environment variable {name} has an unusable value: {exc}") from exc


DEBUG: bool = _setting("DEBUG", bool, False)  # type: ignore[assignment]
_DEFAULT_DEV_KEY = "insecure-development-key-set-SECRET_KEY-in-production-0123456789abcdef"
SECRET_KEY: str = env("SECRET_KEY", default="") or _DEFAULT_DEV_KEY
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL: str = env("SITE_URL", default="http://localhost:8000")

# Production hardening follows from one switch so that `check --deploy` is clean with HTTPS=true.
HTTPS: bool = _setting("HTTPS", bool, False)  # type: ignore[assignment]
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

if not DEBUG and SECRET_KEY == _DEFAULT_DEV_KEY and HTTPS:
    raise ImproperlyConfigured("SECRET_KEY must be set when HTTPS=true (production).")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.humanize",
    "django.contrib.syndication",
    "channels",
    "django_htmx",
    "leaflet",
    "django_q",
    "ninja",
    "bukaamanzi",
    "changelog",
    "municipalities",
    "projects",
    "reports",
    "ingestion",
    "realtime",
    "alerts",
    "apikeys",
    "open311",
    "webhooks",
    "insights",
]

MIDDLEWARE = [
    # First: the request id is bound before anything logs, and the timing covers every other middleware.
    "bukaamanzi.observability.middleware.ObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    # After GZip, so the ETag is the hash of the uncompressed body (GZip then marks it weak when it compresses);
    # before everything else that changes the response. Streamed responses (exports) get none.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After a write request, this process asks for the data version for a moment (projects/dataversion.py).
    "projects.dataversion.LocalWriteGuard",
]

ROOT_URLCONF = "bukaamanzi.urls"
ASGI_APPLICATION = "bukaamanzi.asgi.application"
WSGI_APPLICATION = "bukaamanzi.wsgi.application"

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
                "bukaamanzi.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
# SpatiaLite by default; `postgis://user:pass@host:5432/name` (or `?host=/socket/dir`) for PostGIS.
# An empty variable means "use the default", as in .env.example.
DATABASE_URL: str = env("DATABASE_URL", default="") or f"spatialite:///{VAR_DIR / 'bukaamanzi.sqlite3'}"
try:
    _db = environ.Env.db_url_config(DATABASE_URL)
except Exception as exc:  # django-environ raises several types for a malformed URL
    raise ImproperlyConfigured(f"DATABASE_URL is not a usable database URL: {exc}") from exc
if _db["ENGINE"] not in (
    "django.contrib.gis.db.backends.spatialite",
    "django.contrib.gis.db.backends.postgis",
):
    raise ImproperlyConfigured("DATABASE_URL must start with spatialite:// or postgis:// (the site needs GIS).")
if _db["ENGINE"].endswith("spatialite"):
    # WAL lets the web server read while the worker writes; IMMEDIATE avoids upgrade deadlocks on writes.
    _db.setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "transaction_mode": "IMMEDIATE",
         "timeout": 20}
    )
    # Opening a connection costs about 8 ms of CPU (mod_spatialite, the pragmas). The WSGI page server runs on
    # fixed threads, so its connections are kept (bukaamanzi/wsgi.py sets DB_CONN_MAX_AGE); under ASGI every
    # request runs on a new thread, and a kept connection would only linger until garbage collection: 0 there.
    _db["CONN_MAX_AGE"] = _setting("DB_CONN_MAX_AGE", int, 0)
else:
    # daphne runs each request's sync code in a thread of its own, and Django's connections are per thread, so
    # CONN_MAX_AGE kept nothing: every request opened a new PostgreSQL connection (several ms, most of a small
    # request). A psycopg pool shares connections across threads; DB_POOL_MAX_SIZE=0 goes back to CONN_MAX_AGE.
    _pool_max: int = _setting("DB_POOL_MAX_SIZE", int, 10)  # type: ignore[assignment]
    # When the database is down a request must fail fast (a 503 page within 2 s), not hold a worker thread: libpq
    # gives up connecting after DB_CONNECT_TIMEOUT seconds (2 is the least it honours), and a request waits at most
    # DB_POOL_TIMEOUT seconds for a pooled connection (the web threads never outnumber the pool, so a healthy
    # site never waits). docs/deploy.md, "PostgreSQL stops"; bench/prod/faults.py proves it.
    _connect_timeout: int = _setting("DB_CONNECT_TIMEOUT", int, 2)  # type: ignore[assignment]
    _pool_timeout: float = _setting("DB_POOL_TIMEOUT", float, 1.5)  # type: ignore[assignment]
    _db.setdefault("OPTIONS", {}).setdefault("connect_timeout", _connect_timeout)
    if _pool_max > 0:
        _db.setdefault("OPTIONS", {})["pool"] = {"min_size": min(2, _pool_max), "max_size": _pool_max,
                                                 "timeout": _pool_timeout}
    else:
        _db["CONN_MAX_AGE"] = _setting("DB_CONN_MAX_AGE", int, 60)
        _db["CONN_HEALTH_CHECKS"] = True
    # PostGIS gives its functions high planner costs, so every map query crossed jit_above_cost and spent
    # 400-600 ms compiling (JIT) a query that runs in 20 ms: JIT off for the site's short queries.
    _db.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DATABASES = {"default": _db}
SPATIALITE_LIBRARY_PATH = env("SPATIALITE_LIBRARY_PATH", default="mod_spatialite")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer --------------------------------------------------------------------------------------
# The web server and the django-q2 worker are separate processes, so the default is the private Redis that
# `make run` starts on a socket; the in-memory layer is only for unit tests (CHANNEL_LAYER=memory).
REDIS_URL: str = env("REDIS_URL", default="") or f"unix://{VAR_DIR / 'redis.sock'}"
if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://")
CHANNEL_LAYER: str = env("CHANNEL_LAYER", default="redis")
CHANNEL_LAYERS: dict[str, dict[str, Any]]
if CHANNEL_LAYER == "memory":
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
elif CHANNEL_LAYER == "redis":
    # Fan-out goes through Redis pub/sub: a group message is published once and each web process hands it to its
    # own connections, instead of one queued copy per connection (which, past the per-process queue capacity, the
    # list-based layer drops). Messages missed while disconnected are replayed from the change log on resume.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "realtime.layers.SlicedPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL}]},
        }
    }
else:
    raise ImproperlyConfigured("CHANNEL_LAYER must be 'redis' or 'memory'")
WS_MAX_CONNECTIONS_PER_PROCESS: int = _setting("WS_MAX_CONNECTIONS_PER_PROCESS", int, 10000)  # type: ignore[assignment]
# The port browsers reach the WebSocket process on when it is not the page's own (scripts/serve.py's split
# layout sets it); 0: the same origin as the page (one process, or a proxy that routes /ws/).
WS_PUBLIC_PORT: int = _setting("WS_PUBLIC_PORT", int, 0)  # type: ignore[assignment]
if not 0 <= WS_PUBLIC_PORT < 65536:
    raise ImproperlyConfigured(f"WS_PUBLIC_PORT must be 0 or a port number, not {WS_PUBLIC_PORT}")

# --- Tasks (django-q2) ----------------------------------------------------------------------------------
Q_TIMEOUT: int = _setting("Q_TIMEOUT", int, 1800)  # type: ignore[assignment]
Q_CLUSTER = {
    "name": "bukaamanzi",
    "orm": "default",
    "workers": _setting("Q_WORKERS", int, 2),
    "timeout": Q_TIMEOUT,
    "retry": Q_TIMEOUT + 60,  # django-q2 requires retry > timeout
    "max_attempts": 1,
    "catch_up": False,
    "poll": 1,
    "save_limit": 500,
    "label": "Tasks",
    # The stock ORM broker, but a database outage no longer kills the cluster (bukaamanzi/lib/q2broker.py).
    "broker_class": "bukaamanzi.lib.q2broker.ResilientORM",
}

# --- Auth, i18n, time -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zu", _("isiZulu")), ("xh", _("isiXhosa")), ("af", _("Afrikaans"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Django ships no language info for isiZulu and isiXhosa; without it the language switcher cannot name them.
django.conf.locale.LANG_INFO.update(
    {
        "zu": {"bidi": False, "code": "zu", "name": "Zulu", "name_local": "isiZulu"},
        "xh": {"bidi": False, "code": "xh", "name": "Xhosa", "name_local": "isiXhosa"},
    }
)
TIME_ZONE = "Africa/Johannesburg"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default="") or VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env(
            "STATICFILES_STORAGE", default="whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Maps -----------------------------------------------------------------------------------------------
MAP_TILE_URL: str = env("MAP_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION: str = env(
    "MAP_TILE_ATTRIBUTION", default='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
)
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (-28.5, 24.5),
    "DEFAULT_ZOOM": 5,
    "MIN_ZOOM": 4,
    "MAX_ZOOM": 18,
    "TILES": [("OpenStreetMap", MAP_TILE_URL, {"attribution": MAP_TILE_ATTRIBUTION})],
    "SPATIAL_EXTENT": SOUTH_AFRICA.extent(),
    "RESET_VIEW": False,
}

# --- Sources --------------------------------------------------------------------------------------------
MUNICIPAL_MONEY_URL: str = env("MUNICIPAL_MONEY_URL", default="https://municipalmoney.gov.za")
MUNICIPAL_DATA_URL: str = env("MUNICIPAL_DATA_URL", default="https://municipaldata.treasury.gov.za")
DWS_PMD_URL: str = env("DWS_PMD_URL", default="https://ws.dws.gov.za/pmd/")
HTTP_USER_AGENT: str = env(
    "HTTP_USER_AGENT", default="BukaAmanzi/1.0 (+https://github.com/bukaamanzi; civic water data)"
)
HTTP_PROXY_URL: str = env("HTTP_PROXY_URL", default="")
HTTP_CONNECT_TIMEOUT: float = _setting("HTTP_CONNECT_TIMEOUT", float, 10.0)  # type: ignore[assignment]
HTTP_READ_TIMEOUT: float = _setting("HTTP_READ_TIMEOUT", float, 60.0)  # type: ignore[assignment]
HTTP_RETRIES: int = _setting("HTTP_RETRIES", int, 3)  # type: ignore[assignment]
HTTP_BACKOFF_FACTOR: float = _setting("HTTP_BACKOFF_FACTOR", float, 1.0)  # type: ignore[assignment]
BREAKER_FAILURES: int = _setting("BREAKER_FAILURES", int, 5)  # type: ignore[assignment]
BREAKER_COOLDOWN_SECONDS: int = _setting("BREAKER_COOLDOWN_SECONDS", int, 600)  # type: ignore[assignment]
# Projects are kept when their function or asset class contains one of these words (case-insensitive).
WATER_PROJECT_KEYWORDS: list[str] = env.list(
    "WATER_PROJECT_KEYWORDS", default=["water", "sanitation", "sewer", "sewerage", "wastewater", "waste water"]
)
LOAD_DEMO_DATA: bool = _setting("LOAD_DEMO_DATA", bool, True)  # type: ignore[assignment]

# LOGGING: see "Metrics and logs" at the end.

# GDAL 3.6 on Debian 12 cannot block file/network access from spatial reference strings. We never pass
# user-supplied SRS or WKT with SRS to GDAL (points are built from validated numbers with SRID 4326), so the
# warning is acknowledged here rather than ignored silently.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# --- Live updates (realtime/) ---------------------------------------------------------------------------
RELAY_SEND_TIMEOUT_SECONDS: float = _setting("RELAY_SEND_TIMEOUT_SECONDS", float, 2.0)  # type: ignore[assignment]
RELAY_LOCK_TIMEOUT_SECONDS: float = _setting("RELAY_LOCK_TIMEOUT_SECONDS", float, 10.0)  # type: ignore[assignment]
WS_REPLAY_LIMIT: int = _setting("WS_REPLAY_LIMIT", int, 500)  # type: ignore[assignment]
WS_MAX_SUBSCRIPTIONS: int = _setting("WS_MAX_SUBSCRIPTIONS", int, 50)  # type: ignore[assignment]

# --- Public API (bukaamanzi/apitools.py, projects/maplayer.py, reports/ratelimit.py) --------------------------
API_CACHE_SECONDS: int = _setting("API_CACHE_SECONDS", int, 60)  # type: ignore[assignment]
# On PostgreSQL, page processes hear the data version from the database (LISTEN/NOTIFY) instead of asking for it
# per request (projects/dataversion.py); false makes every read ask, as on SpatiaLite.
DATA_VERSION_PUSH: bool = _setting("DATA_VERSION_PUSH", bool, True)  # type: ignore[assignment]
# Each list's count and page anchors kept per data version, so deep pages cost what the first does
# (bukaamanzi/listmemo.py); false counts and skips rows on every request.
API_LIST_MEMO: bool = _setting("API_LIST_MEMO", bool, True)  # type: ignore[assignment]
# How many reverse proxies in front of daphne append to X-Forwarded-For (0: use REMOTE_ADDR as it is).
API_TRUSTED_PROXIES: int = _setting("API_TRUSTED_PROXIES", int, 0)  # type: ignore[assignment]
MAP_CLUSTER_THRESHOLD: int = _setting("MAP_CLUSTER_THRESHOLD", int, 2000)  # type: ignore[assignment]
OC4IDS_LICENSE_URL: str = env("OC4IDS_LICENSE_URL", default="")
# "<count>/<s|m|h|d>" per client address; counted in the RATELIMIT_CACHE cache alias, which must be shared by
# every web process (Redis) or each process counts on its own.
REPORT_RATE_LIMIT: str = env("REPORT_RATE_LIMIT", default="10/h")
AFFECTED_RATE_LIMIT: str = env("AFFECTED_RATE_LIMIT", default="60/h")
UPDATE_RATE_LIMIT: str = env("UPDATE_RATE_LIMIT", default="20/h")
FLAG_RATE_LIMIT: str = env("FLAG_RATE_LIMIT", default="30/h")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "rl",
         "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
        if CHANNEL_LAYER == "redis" else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
    # Public API bodies keyed by the data version (projects/apicache.py); per process is enough.
    "api": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api",
            "OPTIONS": {"MAX_ENTRIES": 2000}},
    # Insight figures keyed by the data version (insights/cache.py), shared by every process: Redis with the
    # channel layer's server, the database otherwise (its table is made by `manage.py createcachetable`).
    "insights": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "ins",
         "TIMEOUT": 7 * 86400, "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2}}
        if CHANNEL_LAYER == "redis"
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "insights_cache",
              "TIMEOUT": 7 * 86400}
    ),
}
# A bare one-SELECT view under /bench/ for the load test's baseline; never on in production.
BENCH_VIEWS: bool = _setting("BENCH_VIEWS", bool, False)  # type: ignore[assignment]

# --- Ingestion (ingestion/) -----------------------------------------------------------------------------
# Retries: urllib3 waits backoff_factor * 2**(n-1) seconds plus up to HTTP_BACKOFF_JITTER, at most HTTP_BACKOFF_MAX
# (a server's Retry-After is honoured as sent).
HTTP_BACKOFF_JITTER: float = _setting("HTTP_BACKOFF_JITTER", float, 0.5)  # type: ignore[assignment]
HTTP_BACKOFF_MAX: float = _setting("HTTP_BACKOFF_MAX", float, 60.0)  # type: ignore[assignment]
INGESTION_BATCH_SIZE: int = _setting("INGESTION_BATCH_SIZE", int, 300)  # type: ignore[assignment]
TREASURY_PAGE_SIZE: int = _setting("TREASURY_PAGE_SIZE", int, 500)  # type: ignore[assignment]
# capital_v2: one request per amount type and financial year (never summed); empty years = the last three
# completed municipal financial years.
TREASURY_CAPITAL_AMOUNT_TYPES: list[str] = env.list("TREASURY_CAPITAL_AMOUNT_TYPES", default=["AUDA"])
TREASURY_CAPITAL_YEARS: list[int] = env.list("TREASURY_CAPITAL_YEARS", cast=int, default=[])
TREASURY_CAPITAL_BATCH: int = _setting("TREASURY_CAPITAL_BATCH", int, 100)  # type: ignore[assignment]
# The dashboard page listing local municipalities, relative to DWS_PMD_URL; from there only server links are followed.
DWS_INDEX_PATH: str = env("DWS_INDEX_PATH", default="level.aspx?df=1&lv=1&id=630")
DWS_MAX_GRID_PAGES: int = _setting("DWS_MAX_GRID_PAGES", int, 200)  # type: ignore[assignment]
# A queued or running run older than this is taken to be abandoned (its worker died) and marked failed.
INGESTION_STALE_AFTER_SECONDS: int = _setting(  # type: ignore[assignment]
    "INGESTION_STALE_AFTER_SECONDS", int, Q_TIMEOUT + 300
)
# A running run on another host whose heartbeat (refreshed after the harvest and after each loaded batch) is older
# than this is taken to be abandoned; on the worker's own host its process is checked instead (ingestion.workers).
INGESTION_HEARTBEAT_STALE_SECONDS: int = _setting(  # type: ignore[assignment]
    "INGESTION_HEARTBEAT_STALE_SECONDS", int, 600
)
# Schedules (times in Africa/Johannesburg), upserted by `manage.py setup_schedules`.
SCHEDULE_TREASURY_DAILY_AT: str = env("SCHEDULE_TREASURY_DAILY_AT", default="02:00")
SCHEDULE_DWS_CHECK_MINUTES: int = _setting("SCHEDULE_DWS_CHECK_MINUTES", int, 5)  # type: ignore[assignment]
SCHEDULE_DWS_FULL_MINUTES: int = _setting("SCHEDULE_DWS_FULL_MINUTES", int, 60)  # type: ignore[assignment]
# `POST /api/v1/sync/trigger` accepts staff sessions, API keys with the `sync:trigger` scope, and (deprecated, for
# crons set up before API keys) `Authorization: Bearer <SYNC_API_TOKEN>` when this is set.
SYNC_API_TOKEN: str = env("SYNC_API_TOKEN", default="")

# --- API keys (apikeys/) ----------------------------------------------------------------------------------------
# A new key's rate limit unless staff set another ("<count>/<s|m|h|d>"), counted per key in the ratelimit cache.
API_KEY_RATE_LIMIT: str = env("API_KEY_RATE_LIMIT", default="600/h")
try:
    parse_rate(API_KEY_RATE_LIMIT)
except ValueError as _exc:
    raise ImproperlyConfigured(f"Environment variable API_KEY_RATE_LIMIT: {_exc}") from _exc

# --- Webhooks (webhooks/, docs/webhooks.md) ---------------------------------------------------------------------
# Send to loopback and private addresses too (tests, development); never in production: it opens the SSRF guard.
WEBHOOKS_ALLOW_PRIVATE: bool = _setting("WEBHOOKS_ALLOW_PRIVATE", bool, False)  # type: ignore[assignment]
# Seconds to wait for a receiver's answer, and for its connection.
WEBHOOKS_TIMEOUT: float = _setting("WEBHOOKS_TIMEOUT", float, 10.0)  # type: ignore[assignment]
WEBHOOKS_CONNECT_TIMEOUT: float = _setting("WEBHOOKS_CONNECT_TIMEOUT", float, 5.0)  # type: ignore[assignment]
# Seconds before each retry of a failed delivery; after the last, the delivery has failed.
WEBHOOKS_RETRY_DELAYS: str = env("WEBHOOKS_RETRY_DELAYS", default="5,300,1800,7200,18000,36000")
# A subscription whose deliveries have failed for this long without a success is disabled ("3d", "12h", "90s").
WEBHOOKS_DISABLE_AFTER: str = env("WEBHOOKS_DISABLE_AFTER", default="3d")
# Deliveries sent at once by one sender.
WEBHOOKS_SEND_THREADS: int = _setting("WEBHOOKS_SEND_THREADS", int, 8)  # type: ignore[assignment]
try:
    WEBHOOKS_RETRY_DELAY_SECONDS: list[float] = [float(x) for x in WEBHOOKS_RETRY_DELAYS.split(",") if x.strip()]
    _count, _unit = float(WEBHOOKS_DISABLE_AFTER[:-1]), WEBHOOKS_DISABLE_AFTER[-1:]
    WEBHOOKS_DISABLE_AFTER_SECONDS: float = _count * {"s": 1, "m": 60, "h": 3600, "d": 86400}[_unit]
except (ValueError, KeyError) as _exc:
    raise ImproperlyConfigured("WEBHOOKS_RETRY_DELAYS must be seconds separated by commas and WEBHOOKS_DISABLE_AFTER "
                               f"a number and s, m, h or d ({_exc})") from _exc
if min([*WEBHOOKS_RETRY_DELAY_SECONDS, WEBHOOKS_SEND_THREADS, WEBHOOKS_TIMEOUT, WEBHOOKS_CONNECT_TIMEOUT,
        WEBHOOKS_DISABLE_AFTER_SECONDS]) <= 0:
    raise ImproperlyConfigured("WEBHOOKS_RETRY_DELAYS, WEBHOOKS_DISABLE_AFTER, WEBHOOKS_SEND_THREADS and the "
                               "WEBHOOKS_*TIMEOUT settings must be positive")

# --- Email and alerts (alerts/) -------------------------------------------------------------------------------
# EMAIL_URL in django-environ's form: smtp://user:pass@mail.example:25, smtp+tls://...:587 (STARTTLS),
# smtp+ssl://...:465. Empty: every email is written as a file under var/mail/ (nothing is lost, a developer reads
# them there).
EMAIL_URL: str = env("EMAIL_URL", default="")
if EMAIL_URL:
    try:
        _email = environ.Env.email_url_config(EMAIL_URL)
    except Exception as exc:  # django-environ raises several types for a malformed URL
        raise ImproperlyConfigured(f"EMAIL_URL is not a usable email URL: {exc}") from exc
    EMAIL_BACKEND: str = _email["EMAIL_BACKEND"]
    EMAIL_HOST: str = _email.get("EMAIL_HOST") or "localhost"
    EMAIL_PORT: int = int(_email.get("EMAIL_PORT") or 25)
    EMAIL_HOST_USER: str = _email.get("EMAIL_HOST_USER") or ""
    EMAIL_HOST_PASSWORD: str = _email.get("EMAIL_HOST_PASSWORD") or ""
    EMAIL_USE_TLS: bool = bool(_email.get("EMAIL_USE_TLS"))
    EMAIL_USE_SSL: bool = bool(_email.get("EMAIL_USE_SSL"))
    if _email.get("EMAIL_FILE_PATH"):
        EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
# A server that stops answering must not hold a sender for ever (its delivery is retried).
EMAIL_TIMEOUT: int = _setting("EMAIL_TIMEOUT", int, 20)  # type: ignore[assignment]
DEFAULT_FROM_EMAIL: str = env("DEFAULT_FROM_EMAIL", default="Buka Amanzi <alerts@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where a reporter's answer to a moderation notice goes (its Reply-To header and the "reply" mailto link): the
# moderators' inbox. "Name <address>" or a bare address.
MODERATION_REPLY_TO: str = env("MODERATION_REPLY_TO", default="") or DEFAULT_FROM_EMAIL
if "@" not in parseaddr(MODERATION_REPLY_TO)[1]:
    raise ImproperlyConfigured(f"MODERATION_REPLY_TO must be an email address, not {MODERATION_REPLY_TO!r}")
# Sign-ups per client address ("<count>/<s|m|h|d>", as REPORT_RATE_LIMIT), and confirmation emails per address.
ALERT_SIGNUP_RATE_LIMIT: str = env("ALERT_SIGNUP_RATE_LIMIT", default="20/h")
ALERT_CONFIRMATIONS_PER_ADDRESS_PER_DAY: int = _setting(  # type: ignore[assignment]
    "ALERT_CONFIRMATIONS_PER_ADDRESS_PER_DAY", int, 5)
ALERT_IMMEDIATE_EVERY_MINUTES: int = _setting("ALERT_IMMEDIATE_EVERY_MINUTES", int, 5)  # type: ignore[assignment]
ALERT_DIGEST_AT: str = env("ALERT_DIGEST_AT", default="07:00")  # South African time
# A report from a first-time sender waits this long (or until a moderator publishes it) before it is alerted.
ALERT_NEW_SENDER_HOLD_MINUTES: int = _setting("ALERT_NEW_SENDER_HOLD_MINUTES", int, 60)  # type: ignore[assignment]
ALERT_CONFIRM_DAYS: int = _setting("ALERT_CONFIRM_DAYS", int, 7)  # type: ignore[assignment]
# How long a sender holds a delivery: one that dies leaves it to the next pass after this.
ALERT_SEND_LEASE_SECONDS: int = _setting("ALERT_SEND_LEASE_SECONDS", int, 300)  # type: ignore[assignment]
ALERT_MAX_HARD_FAILURES: int = _setting("ALERT_MAX_HARD_FAILURES", int, 5)  # type: ignore[assignment]
# "Is it fixed?": this many days after an open problem report with an email, its sender is asked once.
REPORT_QUESTIONNAIRE_AFTER_DAYS: int = _setting(  # type: ignore[assignment]
    "REPORT_QUESTIONNAIRE_AFTER_DAYS", int, 28)

# --- Metrics and logs (bukaamanzi/observability/) ----------------------------------------------------------------
# /metrics (Prometheus text format) answers only when METRICS_ENABLED, and only to a scraper passing every check set:
# METRICS_TOKEN (`Authorization: Bearer <token>`) and/or METRICS_ALLOW (client networks, CIDR, comma-separated).
# One of them must be set. Several processes (scripts/serve.py) add up through PROMETHEUS_MULTIPROC_DIR, which
# serve.py points at var/metrics/ and empties at start.
METRICS_ENABLED: bool = _setting("METRICS_ENABLED", bool, False)  # type: ignore[assignment]
METRICS_TOKEN: str = env("METRICS_TOKEN", default="")
try:
    METRICS_ALLOW = [ipaddress.ip_network(net.strip()) for net in env.list("METRICS_ALLOW", default=[]) if net.strip()]
except ValueError as _exc:
    raise ImproperlyConfigured(f"Environment variable METRICS_ALLOW must list networks such as 10.0.0.0/8: {_exc}") \
        from _exc
if METRICS_ENABLED and not (METRICS_TOKEN or METRICS_ALLOW):
    raise ImproperlyConfigured("METRICS_ENABLED needs METRICS_TOKEN or METRICS_ALLOW (or both) to protect /metrics.")
# LOG_FORMAT: `plain` (readable lines, the default) or `json` (one object a line, with the request id).
LOG_FORMAT: str = env("LOG_FORMAT", default="") or "plain"
if LOG_FORMAT not in LOG_FORMATS:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = logging_config(LOG_FORMAT, env("LOG_LEVEL", default="INFO"))
# --- Backups (bukaamanzi/backups.py; manage.py backup / restore) ------------------------------------------------
# Each backup is a directory here: the database dump, a copy of MEDIA_ROOT and a manifest of checksums.
BACKUP_DIR = Path(env("BACKUP_DIR", default="") or VAR_DIR / "backups")
# The nightly django-q2 schedule keeps this many backups (the newest ones) and runs at this South African time.
BACKUP_KEEP: int = _setting("BACKUP_KEEP", int, 7)  # type: ignore[assignment]
if BACKUP_KEEP < 1:
    raise ImproperlyConfigured("BACKUP_KEEP must be at least 1")
BACKUP_AT: str = env("BACKUP_AT", default="03:30")
# Where pg_dump and pg_restore are (empty: on PATH); they must be at least the server's version.
BACKUP_PG_BIN_DIR: str = env("BACKUP_PG_BIN_DIR", default="")

# --- Admin security: login throttling (django-axes) and the Content-Security-Policy (django-csp) ---------------
# Kept in one block: the cookies and HSTS follow HTTPS above; nginx sets HSTS too when it terminates TLS.
INSTALLED_APPS += ["axes", "csp"]
# AxesMiddleware last, as axes asks: it turns a locked-out login into the lockout page. CSPMiddleware adds the
# header to every response, pages, admin and API alike.
MIDDLEWARE += ["csp.middleware.CSPMiddleware", "axes.middleware.AxesMiddleware"]
# Axes first: it refuses a locked-out user+address before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT: int = _setting("AXES_FAILURE_LIMIT", int, 5)  # type: ignore[assignment]
AXES_COOLOFF_MINUTES: int = _setting("AXES_COOLOFF_MINUTES", int, 30)  # type: ignore[assignment]
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_MINUTES < 1:
    raise ImproperlyConfigured("AXES_FAILURE_LIMIT and AXES_COOLOFF_MINUTES must be at least 1")
AXES_COOLOFF_TIME = dt.timedelta(minutes=AXES_COOLOFF_MINUTES)
# Locked per user name *and* client address: a stranger guessing cannot lock a moderator out from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no "AXES: BEGIN" banner in every process's start-up log
# The same client address as the rate limits (REMOTE_ADDR, or X-Forwarded-For behind API_TRUSTED_PROXIES).
AXES_CLIENT_IP_CALLABLE = "bukaamanzi.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "bukaamanzi.lockout.lockout_response"  # the admin's look, translated, the wait in minutes
AXES_HTTP_RESPONSE_CODE = 429
# No 'unsafe-inline' for scripts: every script is a file under /static/ (django-leaflet's map start-up is
# templates/leaflet/_leaflet_map.html + static/js/leaflet_map.js); the one inline script left, the admin's map
# widget's (leaflet/widget.html), carries the request's nonce. Styles keep 'unsafe-inline' for the admin's, the
# templates' and Leaflet's style attributes and blocks, which cannot run code. Map tiles come from
# MAP_TILE_URL's host; the live feed's WebSocket may be on another port of the same host (WS_PUBLIC_PORT), which
# 'self' does not cover.
_tile_origin = "{0.scheme}://{0.netloc}".format(urlsplit(MAP_TILE_URL)) if "://" in MAP_TILE_URL else ""
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", *([_tile_origin] if _tile_origin else [])],
        "connect-src": ["'self'", "ws:", "wss:"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
