"""Django settings for Callrix. Everything deployment-specific comes from the environment."""

from __future__ import annotations

import importlib.util
import os
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from callrix import embedded, production

BASE_DIR = Path(__file__).resolve().parent.parent.parent
CALLRIX_ENV = os.environ.get("CALLRIX_ENV", "development")
PRODUCTION = CALLRIX_ENV == "production"
# A test run gets its own cache keys and job queues, so it never meets a running demo's.
TESTING = "pytest" in sys.modules
_RUN_NAMESPACE = f"callrix-test-{os.getpid()}" if TESTING else "callrix"

if PRODUCTION:
    # Every secret and service address comes from the environment; nothing is embedded.
    production.require_environment(os.environ)
else:
    embedded.ensure_environment()

SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-secret-key-change-me-0123456789")
DEBUG = not PRODUCTION and (
    os.environ.get("DEBUG", "1" if CALLRIX_ENV == "development" else "0") == "1"
)
BASE_DOMAIN = os.environ.get("BASE_DOMAIN", "localhost")
# Internal-only hosts (the Compose service name Traefik and Prometheus use): they serve
# `callrix.urls_internal` and nothing else; no licensee can claim them.
INTERNAL_HOSTS = [h for h in os.environ.get("INTERNAL_HOSTS", "web").split(",") if h.strip()]
INTERNAL_URLCONF = "callrix.urls_internal"
# Bearer token that internal endpoints ask for (required in production).
CALLRIX_INTERNAL_TOKEN = os.environ.get("CALLRIX_INTERNAL_TOKEN", "")
if PRODUCTION:
    # Exactly the hosts the tenant routing serves: BASE_DOMAIN, licensees' subdomains and
    # verified custom domains, the internal hosts; checked through its cache.
    ALLOWED_HOSTS = production.allowed_hosts()
else:
    # The tenant middleware already answers 404 for a host nobody serves.
    ALLOWED_HOSTS = ["*"]


def _database_from_url(url: str) -> dict:
    parsed = urlparse(url)
    query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    return {
        "ENGINE": "callrix.db",
        "NAME": unquote(parsed.path.lstrip("/")) or "callrix",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": query.pop("host", parsed.hostname or ""),
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": query,
        "TEST": {"NAME": os.environ.get("CALLRIX_TEST_DATABASE") or None},
    }


DATABASES = {"default": _database_from_url(os.environ["DATABASE_URL"])}
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
REDIS_URL = os.environ["REDIS_URL"]


def _demo_app() -> list[str]:
    """The demo (`callrix demo`, `callrix sandbox …`) where it is installed; the production
    image leaves it out."""
    return ["demo"] if importlib.util.find_spec("demo") else []


SHARED_APPS = [
    "tenants",  # first: its `migrate` command (all schemas + spare pool) wins
    "django_tenants",
    "identity",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "axes",
    # Its API docs page then serves Swagger UI from our static files, not from a CDN.
    "ninja",
    "ninja_jwt",
    "ninja_jwt.token_blacklist",
    "django_dramatiq",
    "shared_apps.accounts",
    "shared_apps.usage",
    "shared_apps.billing",
    "branding",
    "branding.outbox",
    "kernel.job_outbox",
    "shared_apps.privacy",
    "shared_apps.licensing",
    "shared_apps.website",
    "compliance.callrix",
    "callrix",
    *_demo_app(),
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "identity",
    "axes",
    "ninja_jwt.token_blacklist",
    "branding.outbox",  # mail that could not go out stays in the schema it was written in
    "kernel.job_outbox",  # jobs wait in the schema of the transaction that queued them
    "tenant_apps.wallets",
    "tenant_apps.payments",
    "tenant_apps.promotions",
    "tenant_apps.pricing",
    "tenant_apps.notifications",
    "tenant_apps.advisors",
    "tenant_apps.calls",
    "tenant_apps.appointments",
    "tenant_apps.payouts",
    "tenant_apps.webapp",
    "tenant_apps.dashboard",
    "compliance.licensee",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Licensee"
TENANT_DOMAIN_MODEL = "tenants.Domain"
TENANT_LIMIT_SET_CALLS = True
PUBLIC_SCHEMA_NAME = "public"
SPARE_SCHEMA_POOL_SIZE = int(os.environ.get("SPARE_SCHEMA_POOL_SIZE", "2"))
HOST_CACHE_SECONDS = 300

AUTH_USER_MODEL = "identity.User"

MIDDLEWARE = [
    # Outermost: every error under /api/, /webhooks/, /internal/ becomes the JSON contract,
    # every page error the brand's page (callrix.errors).
    "callrix.errors.ErrorContractMiddleware",
    # Without Redis, what needs it answers a JSON 503 (kernel.outage).
    "kernel.outage.RedisOutageMiddleware",
    "tenants.middleware.LicenseeHostMiddleware",
    # Hostile input refused once, before any view or query (kernel.edge).
    "kernel.edge.RequestGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "branding.middleware.BrandLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "identity.lockout.LockoutMiddleware",
    "kernel.security.ContentSecurityPolicyMiddleware",
]
ROOT_URLCONF = "callrix.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "callrix.urls_public"
WSGI_APPLICATION = "callrix.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "branding.context_processors.brand",
                "shared_apps.website.analytics.analytics",
            ],
        },
    },
]

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": _RUN_NAMESPACE,
        # A lost Redis must cost a request a second at most, not a hung worker.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
    }
}

PASSWORD_HASHERS = [
    "identity.hashers.BCryptCost12PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "identity.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LANGUAGE_CODE = "en"
# What a licensee may pick as its default and a user may switch to (branding.middleware).
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LANGUAGE_COOKIE_NAME = "language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or embedded.home() / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production serves the files collected into the image at build time, with hashed names
    # (cacheable forever) and pre-compressed copies.
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# The browser bundles `frontend/build.mjs` writes (npm packages bundled by esbuild at build
# time: nothing is fetched from a CDN at run time).
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
STATICFILES_DIRS = [FRONTEND_DIST]
# Tests serve straight from the app folders and the bundle, as development does.
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or embedded.home() / "media")
# Brand images are served by branding.views on the licensee's own host, never from MEDIA_URL.
BRAND_IMAGE_MAX_BYTES = 1_000_000
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Every e-mail is queued (branding.outbox) and sent by a job through the transport that
# `EMAIL_BACKEND` in the environment names, with retries and a dead-letter record.
MAIL_TRANSPORT_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_BACKEND = "branding.outbox.backend.QueuedEmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "no-reply@callrix.io")
# The SMTP relay production sends through (an EU provider; STARTTLS on 587 by default).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587" if PRODUCTION else "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "1" if PRODUCTION else "0") == "1"

SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    # Traefik terminates TLS and says so in X-Forwarded-Proto; only it reaches `web`.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # The container's health check and the internal endpoints are plain HTTP inside the
    # Compose network.
    SECURE_REDIRECT_EXEMPT = [r"^api/platform/v1/health$", r"^internal/"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = os.environ.get("SECURE_HSTS_PRELOAD", "1") == "1"
    # The session cookie is HttpOnly (above); the CSRF cookie stays readable by the pages'
    # own scripts (htmx sends it back), which Django's docs say costs nothing.
    SESSION_COOKIE_SAMESITE = "Lax"
    # Client addresses: Traefik appends the address it saw to X-Forwarded-For, so with its
    # one hop (TRUSTED_PROXY_COUNT, below) the last entry is the client.
# Client addresses (throttles, lockouts, whether a request comes from this machine): the
# number of our own proxies in front of the app, each appending to X-Forwarded-For
# (kernel.client_address). None by default, and none in the demo: the header is ignored.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "1" if PRODUCTION else "0"))
NINJA_NUM_PROXIES = TRUSTED_PROXY_COUNT
AXES_CLIENT_IP_CALLABLE = "kernel.client_address.axes_client_ip"
# Request bodies (kernel.edge): API and webhook bodies are small JSON; pages take brand images.
MAX_API_BODY_BYTES = int(os.environ.get("MAX_API_BODY_BYTES", "1000000"))
MAX_PAGE_BODY_BYTES = int(os.environ.get("MAX_PAGE_BODY_BYTES", "3000000"))
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_PAGE_BODY_BYTES
# A stale or forged form gets the brand's page (callrix.errors).
CSRF_FAILURE_VIEW = "callrix.errors.csrf_failure"
# Debug pages (this machine only, callrix.errors) show no settings at all.
DEFAULT_EXCEPTION_REPORTER_FILTER = "kernel.secrets.NoSettingsExceptionReporterFilter"
# Only first-party cookies, and only these: the session, CSRF (privacy policy §9). Messages
# ride in the session rather than in a cookie of their own.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Jobs: dramatiq on Redis. The tenant middleware carries the active schema with every message.
DRAMATIQ_BROKER = {
    "BROKER": "dramatiq.brokers.redis.RedisBroker",
    "OPTIONS": {
        "url": REDIS_URL,
        "namespace": _RUN_NAMESPACE,
        "socket_connect_timeout": 1,
        "socket_timeout": 5,  # above the broker's own blocking reads (1 s)
    },
    "MIDDLEWARE": [
        "dramatiq.middleware.AgeLimit",
        "dramatiq.middleware.TimeLimit",
        "dramatiq.middleware.Callbacks",
        "dramatiq.middleware.Retries",
        "dramatiq.middleware.CurrentMessage",  # a job can tell its last attempt (mail)
        "tenants.jobs.TenantMessageMiddleware",
        "django_dramatiq.middleware.DbConnectionsMiddleware",
    ],
}
DRAMATIQ_AUTODISCOVER_MODULES = ["tasks"]
# A job the queue did not take when its transaction committed (Redis down) waits in the
# database (kernel.job_outbox); the sweep sends those older than this.
JOB_OUTBOX_SWEEP_AFTER_SECONDS = float(os.environ.get("JOB_OUTBOX_SWEEP_AFTER_SECONDS", "30"))

# django-axes: 5 failures of one account from one address lock that pair for 30 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = True
# A refused attempt during a lockout does not restart the 30 minutes.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_FORM_FIELD = "username"
# identity.lockout.LockoutMiddleware replaces axes' own middleware (429 JSON, honest 5th reply).
SILENCED_SYSTEM_CHECKS = ["axes.W002"]

# JWT (django-ninja-jwt): short access tokens, rotating refresh tokens (identity.tokens).
NINJA_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=int(os.environ.get("JWT_ACCESS_MINUTES", "15"))),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=int(os.environ.get("JWT_REFRESH_DAYS", "14"))),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": SECRET_KEY,
}

# Days a chat session's messages are kept after it ended (tenant_apps/calls/services/chat.py).
CHAT_RETENTION_DAYS = int(os.environ.get("CHAT_RETENTION_DAYS", "90"))

# Requests per window, per client address (or signed-in user) and per licensee.
THROTTLE_RATES = {
    "register": os.environ.get("THROTTLE_REGISTER", "10/h"),
    "token": os.environ.get("THROTTLE_TOKEN", "30/m"),
    "refresh": os.environ.get("THROTTLE_REFRESH", "60/m"),
    "password_reset": os.environ.get("THROTTLE_PASSWORD_RESET", "5/h"),
    "verify_email": os.environ.get("THROTTLE_VERIFY_EMAIL", "10/h"),
    "topup": os.environ.get("THROTTLE_TOPUP", "20/h"),
    "call": os.environ.get("THROTTLE_CALL", "30/h"),
    "signup": os.environ.get("THROTTLE_SIGNUP", "5/h"),
    "export": os.environ.get("THROTTLE_EXPORT", "3/h"),
    "subject_export": os.environ.get("THROTTLE_SUBJECT_EXPORT", "10/h"),
}

LOGIN_URL = "/account/login/"
LOGIN_REDIRECT_URL = "/account/"
LOGOUT_REDIRECT_URL = None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Production: one JSON object per line on stdout (Docker's journald driver keeps it for
    # the policy's 90 days); see callrix/log_format.py for what is left out.
    "formatters": {"json": {"()": "kernel.log_format.JsonLogFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            **({"formatter": "json"} if PRODUCTION else {}),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        "stripe": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
    },
}

# How people reach us, for links in e-mails and command output.
SITE_SCHEME = os.environ.get("SITE_SCHEME", "http" if DEBUG else "https")
SITE_PORT = os.environ.get("SITE_PORT", "8000" if DEBUG else "")
PUBLIC_EXTRA_HOSTS = [h for h in os.environ.get("PUBLIC_EXTRA_HOSTS", "127.0.0.1").split(",") if h]

# Fernet key(s) for secrets stored at rest; see callrix/crypto.py.
CALLRIX_ENCRYPTION_KEY = os.environ.get("CALLRIX_ENCRYPTION_KEY", "")

# Stripe: the API base the SDK talks to (unset = Stripe itself; the sandbox in tests/demo).
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")

# LiveKit: the server URL browsers connect to (ws:// or wss://; its API is the same host over
# http(s)) and the API key pair. Outside production the defaults are the local sandbox's
# (`python -m sandboxes.livekit_sandbox`); production has none: unset means not configured.
LIVEKIT_URL = os.environ.get("LIVEKIT_URL", "" if PRODUCTION else "ws://127.0.0.1:7880")
LIVEKIT_API_KEY = os.environ.get("LIVEKIT_API_KEY", "" if PRODUCTION else "devkey")
LIVEKIT_API_SECRET = os.environ.get(
    "LIVEKIT_API_SECRET", "" if PRODUCTION else "callrix-dev-livekit-secret-not-for-production"
)

# Firebase Cloud Messaging: the API base firebase-admin sends to (unset = Google; the sandbox
# in tests/demo), and Callrix's own service-account key (JSON or a path to it) for licensees
# without their own Firebase project.
FCM_API_BASE = os.environ.get("FCM_API_BASE", "")
FCM_DEFAULT_CREDENTIALS = os.environ.get("FCM_DEFAULT_CREDENTIALS", "")

# Every call to an outside provider, in one place: how long it may take and how often it is
# retried, so that no request waits on a slow provider for more than a few seconds (gunicorn
# gives a request 30 s). Seconds unless said otherwise.
STRIPE_TIMEOUT_SECONDS = float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "8"))
# The SDK retries network errors and 409/429/5xx; every write carries an idempotency key.
STRIPE_MAX_NETWORK_RETRIES = int(os.environ.get("STRIPE_MAX_NETWORK_RETRIES", "1"))
LIVEKIT_TIMEOUT_SECONDS = float(os.environ.get("LIVEKIT_TIMEOUT_SECONDS", "5"))
FCM_TIMEOUT_SECONDS = float(os.environ.get("FCM_TIMEOUT_SECONDS", "5"))
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "10"))  # SMTP (Django's own setting)
# LiveKit's circuit breaker: after this many calls in a row could not reach it, it is not
# asked for the cooldown; then one call tries again.
LIVEKIT_BREAKER_FAILURES = int(os.environ.get("LIVEKIT_BREAKER_FAILURES", "3"))
LIVEKIT_BREAKER_COOLDOWN_SECONDS = float(os.environ.get("LIVEKIT_BREAKER_COOLDOWN_SECONDS", "20"))
# While LiveKit cannot be asked, a running call keeps its last known presence and is billed on
# it; once nothing confirmed the call for this long, it ends as `provider_unreachable`.
LIVEKIT_OUTAGE_ALLOWANCE_SECONDS = int(os.environ.get("LIVEKIT_OUTAGE_ALLOWANCE_SECONDS", "300"))

# Callrix's own Stripe account, which bills licensees (public schema): its secret key and the
# signing secret of its `/webhooks/stripe` endpoint on the public host. Stripe Tax is asked to
# add VAT to licensees' invoices unless BILLING_AUTOMATIC_TAX=0.
CALLRIX_STRIPE_SECRET_KEY = os.environ.get("CALLRIX_STRIPE_SECRET_KEY", "")
CALLRIX_STRIPE_WEBHOOK_SECRET = os.environ.get("CALLRIX_STRIPE_WEBHOOK_SECRET", "")
BILLING_AUTOMATIC_TAX = os.environ.get("BILLING_AUTOMATIC_TAX", "1") == "1"
# Days a licensee stays `past_due` after a failed payment before it is suspended.
DUNNING_GRACE_DAYS = int(os.environ.get("DUNNING_GRACE_DAYS", "14"))
# Callrix's self-hosted Matomo (shared_apps.website.analytics), on the public host only: its
# base URL and site id; unset = no analytics snippet at all.
MATOMO_URL = os.environ.get("MATOMO_URL", "")
MATOMO_SITE_ID = os.environ.get("MATOMO_SITE_ID", "")
# Looks up the DNS TXT records that prove a custom domain (tenants.dns).
DNS_RESOLVER = os.environ.get("DNS_RESOLVER", "tenants.dns.SystemResolver")

# Content-Security-Policy (kernel.security): the app's own origin only. A page that needs
# LiveKit or Stripe adds exactly those origins (kernel.security.csp_allow).
STRIPE_JS_ORIGINS = ["https://js.stripe.com"]
STRIPE_FRAME_ORIGINS = ["https://js.stripe.com", "https://hooks.stripe.com"]
