"""Settings, read from the environment with a working default for everything.

The embedded default needs nothing but Python: a SQLite file under ``var/``, celery tasks run
eagerly in-process, e-mail printed to the console. Production sets ``DEBUG=false``, and then must
set ``SECRET_KEY`` and ``ALLOWED_HOSTS`` too or the settings refuse to load; it also sets
``DATABASE_URL`` (PostgreSQL) and ``CELERY_BROKER_URL`` (Redis or RabbitMQ). Outside development
cookies are secure, HTTPS is enforced (HSTS and a redirect; ``SECURE_PROXY_SSL_HEADER`` behind a
proxy that ends TLS), every page carries a content security policy and sign-in is throttled.
The README's production section lists the environment; ``manage.py check --deploy`` is clean
with it.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("CYCLE_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env(DEBUG=(bool, True))

DEBUG = env("DEBUG")
_DEV_SECRET = "dev-only-not-secret-5d1c0c5b8f2f4a0f9f1c"
_DEV_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
SECRET_KEY = env("SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=_DEV_HOSTS if DEBUG else [])


def _refuse_unsafe_production(environment: environ.Env) -> None:
    """Production (``DEBUG=false``) must say its secret and its hosts; the development key is
    for development only; and a real secret without ``DEBUG`` said is a production slip."""
    problems = []
    if not DEBUG:
        if not SECRET_KEY:
            problems.append("set SECRET_KEY (50 or more random characters)")
        elif SECRET_KEY == _DEV_SECRET:
            problems.append("SECRET_KEY is the development key, which works only with DEBUG on")
        if not ALLOWED_HOSTS:
            problems.append("set ALLOWED_HOSTS (the host names the site answers to)")
    elif "SECRET_KEY" in environment.ENVIRON and "DEBUG" not in environment.ENVIRON:
        problems.append(
            "SECRET_KEY is set but DEBUG is not: set DEBUG=false in production "
            "(or DEBUG=true to develop with this key)"
        )
    if problems:
        raise ImproperlyConfigured("Unsafe settings: " + "; ".join(problems) + ".")


_refuse_unsafe_production(env)

# HTTPS, cookies and headers: on outside development, each can be changed from the environment.
_PRODUCTION = not DEBUG
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=_PRODUCTION)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # no script reads the token from the cookie; forms carry it
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_PRODUCTION)
# A load balancer's health check may come over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if _PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=_PRODUCTION)
# Behind a proxy that ends TLS: "HTTP_X_FORWARDED_PROTO,https" (the header the proxy sets, and
# its value for HTTPS). Only where the proxy always sets it: a client could send it otherwise.
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_ssl_header and len(_proxy_ssl_header) != 2:
    raise ImproperlyConfigured(
        "SECURE_PROXY_SSL_HEADER is the header's name and its value for HTTPS, e.g. "
        "HTTP_X_FORWARDED_PROTO,https"
    )
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if _proxy_ssl_header else None
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# How many proxies in front append the client's address to X-Forwarded-For (0: none, the
# connection's address is the client's). Sign-in throttling counts by the client's address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "viewflow",
    "viewflow.workflow",
    "cycle",
    "roles",
    "processes",
    "cycle.web",
    "cycle.procurement",
    "django_celery_beat",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "cycle.conf.security.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A service's refusal that no form caught becomes a page, not a server error.
    "cycle.web.middleware.ServiceErrorMiddleware",
    # Gives viewflow's pages (processes/) their site, app and flow viewset.
    "viewflow.middleware.SiteMiddleware",
    # Sign-in throttling (django-axes): last, so it sees the sign-in's outcome.
    "axes.middleware.AxesMiddleware",
]

# Content security policy (django-csp): the service's own files only, no inline script or style.
# viewflow's process pages put style attributes and elements in their markup, so those paths
# alone may use inline style (cycle.conf.security).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
CSP_INLINE_STYLE_PATHS = ("/processes/",)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

ROOT_URLCONF = "cycle.conf.urls"
WSGI_APPLICATION = "cycle.conf.wsgi.application"

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
                "cycle.web.navigation.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'cycle.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # Writers wait for each other instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters bound by the server, and a statement a connection sends a fifth time prepared
    # there, so that the hot reads and writes are planned once per connection, not every time
    # (Django turns psycopg's preparing off unless asked; behind a pooler in transaction mode,
    # it needs one that keeps prepared statements, such as PgBouncer 1.21 or later).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 5}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's model permissions and guardian's object permissions, each check in one query.
AUTHENTICATION_BACKENDS = [
    # Refuses a sign-in while its username and address are locked out; authenticates nobody.
    "axes.backends.AxesStandaloneBackend",
    "roles.backends.ModelBackend",
    "roles.backends.ObjectPermissionBackend",
]
# guardian looks for its own backend by name; roles.backends.ObjectPermissionBackend is a subclass.
SILENCED_SYSTEM_CHECKS = ["guardian.W001"]
# Object permissions on viewflow's proxy process models use the proxy's own content type, where
# Django puts the proxy's permissions (see processes/permissions.py).
GUARDIAN_GET_CONTENT_TYPE = "processes.permissions.own_content_type"
ANONYMOUS_USER_NAME = None

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(VAR_DIR / "static"))

# Sign-in throttling (django-axes): after this many failed attempts for one username from one
# address, that pair is locked out for the cool-off time; a success clears the count. Every
# sign-in (the pages, the admin) goes through authenticate() with the request, which axes needs.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/account/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "cycle.conf.security.client_ip"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

EMAIL_BACKEND = env("EMAIL_BACKEND", default="cycle.mail.ConsoleBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="commissioning-cycle@localhost")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# Notifications (cycle.outbox): e-mail is tried this many times, the waits doubling from the
# first; then it is given up and the cycle's involvement lead is told.
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=5)
NOTIFICATION_RETRY_SECONDS = env.int("NOTIFICATION_RETRY_SECONDS", default=60)
NOTIFICATION_MESSAGE_ID_DOMAIN = env("NOTIFICATION_MESSAGE_ID_DOMAIN", default="cycle.invalid")
NOTIFICATION_EMAIL_FOOTER = f"\n\n--\nSign in to see this and the rest of the cycle: {SITE_URL}/"
# GOV.UK Notify, when EMAIL_BACKEND is cycle.mail.GovUKNotifyBackend (docs/notifications.md).
GOVUK_NOTIFY_API_KEY = env("GOVUK_NOTIFY_API_KEY", default="")
GOVUK_NOTIFY_TEMPLATE_ID = env("GOVUK_NOTIFY_TEMPLATE_ID", default="")
GOVUK_NOTIFY_REPLY_TO_ID = env("GOVUK_NOTIFY_REPLY_TO_ID", default="")
GOVUK_NOTIFY_BASE_URL = env("GOVUK_NOTIFY_BASE_URL", default="")
# /healthz fails when a notification has waited longer than this in the outbox.
HEALTHZ_OUTBOX_MAX_AGE_SECONDS = env.int("HEALTHZ_OUTBOX_MAX_AGE_SECONDS", default=900)

# Celery: eager in-process by default; a real broker when CELERY_BROKER_URL is set.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="memory://localhost/")
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL.startswith("memory://")
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="cycle")
# Periodic tasks, run by `celery -A cycle.conf beat`, which keeps its schedule in the database
# (django-celery-beat): these entries are written there at start, and the admin can change them.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "flag-overdue-input": {
        "task": "processes.tasks.flag_overdue_inputs",
        "schedule": crontab(minute=15, hour=6),
    },
    "outbox-sweep": {"task": "cycle.tasks.sweep_outbox", "schedule": 60.0},
    "workflow-timers": {"task": "cycle.tasks.fire_workflow_timers", "schedule": 60.0},
    "verify-ledger": {"task": "cycle.tasks.verify_ledger", "schedule": crontab(minute=30, hour=2)},
    "reminders": {"task": "cycle.tasks.send_reminders", "schedule": crontab(minute=0, hour=7)},
}

# Working days (cycle.workdays: weekdays that are not bank holidays of the organisation's part of
# the UK). Input from the panel waiting this long for an answer is flagged to the lead
# commissioner, and this long to the governance board; the panel is reminded of a decision
# meeting this many working days before it. Reminders and escalations of sign-offs and
# acknowledgements are set per organisation.
INPUT_RESPONSE_DAYS = env.int("INPUT_RESPONSE_DAYS", default=20)
INPUT_ESCALATE_TO_BOARD_DAYS = env.int("INPUT_ESCALATE_TO_BOARD_DAYS", default=30)
MEETING_REMINDER_DAYS = env.int("MEETING_REMINDER_DAYS", default=2)

# The REST API (cycle/api/, docs/api.md): session sign-in for the browser, bearer tokens for
# scripts (throttled per token), problem details for every error, pages everywhere.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cycle.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "cycle.api.pagination.PagePagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["cycle.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": env("API_TOKEN_RATE", default="600/minute")},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cycle.api.problems.problem_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Commissioning cycle API",
    "DESCRIPTION": "Cycles, their stages and involvement gates, the gate records and the audit "
    "ledger, over the same services as the pages. Errors are RFC 9457 problem details carrying "
    "the service's stable code. See docs/api.md.",
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CycleStatusEnum": "cycle.models.CommissioningCycle.Status",
        "InputStatusEnum": "cycle.models.UserInput.Status",
        "SignOffKindEnum": "cycle.models.SignOff.Kind",
        "ScoringSideEnum": "cycle.procurement.models.Side",
        "InterestEnum": "roles.models.ConflictDeclaration.Interest",
        "ResponseKindEnum": "cycle.models.InputResponse.Kind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cycle.api.schema.add_problem_responses",
    ],
    # Assets served from this site (drf-spectacular-sidecar): no CDN, so it works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}
