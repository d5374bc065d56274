"""Settings, read from the environment with a working default for everything.

The embedded default needs nothing but Python: a SQLite file under ``var/``, celery tasks run
eagerly in-process, e-mail printed to the console. Production sets ``DATABASE_URL`` (PostgreSQL),
``CELERY_BROKER_URL`` (Redis or RabbitMQ), ``SECRET_KEY`` and ``DEBUG=false``.
"""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("CYCLE_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env(
    DEBUG=(bool, True),
    ALLOWED_HOSTS=(list, ["localhost", "127.0.0.1", "[::1]"]),
)

DEBUG = env("DEBUG")
_DEV_SECRET = "dev-only-not-secret-5d1c0c5b8f2f4a0f9f1c"
SECRET_KEY = env("SECRET_KEY", default=_DEV_SECRET if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env("ALLOWED_HOSTS")

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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
]

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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's model permissions and guardian's object permissions, each check in one query.
AUTHENTICATION_BACKENDS = [
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
