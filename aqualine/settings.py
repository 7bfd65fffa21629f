"""Aqualine settings: one module, driven by the environment.

Embedded defaults (SQLite under var/, in-memory channel layer, file cache) need no external
server. Production sets DATABASE_URL (PostgreSQL) and REDIS_URL (channel layer and cache).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

from aqualine.env import envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent
_SOURCE_ROOT = BASE_DIR.parent
_DEFAULT_VAR = (
    _SOURCE_ROOT / "var" if (_SOURCE_ROOT / "pyproject.toml").exists() else Path.cwd() / "var"
)
VAR_DIR = Path(envstr("AQUALINE_VAR_DIR", str(_DEFAULT_VAR))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _generated_secret(name: str, nbytes: int) -> str:
    """A secret made once and kept in var/ (mode 0600). Processes starting together agree:
    the file is written under a temporary name and linked into place atomically."""
    path = VAR_DIR / name
    if not path.exists():
        tmp = VAR_DIR / f".{name}.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(nbytes))
        try:
            os.link(tmp, path)  # fails if another process won the race: use theirs
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def _secret_key() -> str:
    return envstr("SECRET_KEY") or _generated_secret("secret_key", 50)


SECRET_KEY = _secret_key()


def _switch_token() -> str:
    """Shared by the web and the switch: from the environment, or a file under var/."""
    return envstr("AQUALINE_SWITCH_TOKEN") or _generated_secret("switch_token", 32)


DEBUG = envbool("AQUALINE_DEBUG", False)
ALLOWED_HOSTS = envlist("AQUALINE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("AQUALINE_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "aqualine.core",
    "aqualine.accounts",
    "aqualine.callcenter",
    "aqualine.customers",
    "aqualine.workorders",
    "aqualine.knowledge",
    "aqualine.notices",
    "aqualine.reports",
    "aqualine.desk",
    "aqualine.wallboard",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "channels",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "aqualine.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "aqualine.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "aqualine.urls"
ASGI_APPLICATION = "aqualine.asgi.application"
WSGI_APPLICATION = "aqualine.wsgi.application"

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
                "aqualine.core.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'aqualine.sqlite3'}"),
        conn_max_age=envint("AQUALINE_DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web, switch and worker processes read while one writes; wait for locks.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": envstr("AQUALINE_REDIS_PREFIX", "aq")},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": envstr("AQUALINE_REDIS_PREFIX", "aq"),
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {
        "default": {
            # Shared by the embedded processes on one machine, unlike local memory.
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("agent_id", "name", "phone")},
    },
    {
        "NAME": "aqualine.accounts.validators.MinimumLength",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login throttling (django-axes): 5 failures for one 工号 from one address lock it for a while.
AXES_FAILURE_LIMIT = envint("AQUALINE_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("AQUALINE_LOGIN_LOCK_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "aqualine.accounts.throttling.axes_username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

SESSION_COOKIE_AGE = envint("AQUALINE_SESSION_HOURS", 12) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
_secure = envbool("AQUALINE_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = _secure
LANGUAGE_COOKIE_SAMESITE = "Lax"
TRUSTED_PROXIES = envlist("AQUALINE_TRUSTED_PROXIES", [])
if envbool("AQUALINE_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("AQUALINE_HSTS_SECONDS", 0)
X_FRAME_OPTIONS = "SAMEORIGIN"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = envstr("AQUALINE_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(envstr("AQUALINE_MEDIA_DIR", str(VAR_DIR / "media")))
# Call recordings written by the switch (served only through a permission-checked view) and
# uploaded IVR prompts (they take precedence over the rendered TTS and the shipped ones).
RECORDINGS_DIR = Path(envstr("AQUALINE_RECORDINGS_DIR", str(VAR_DIR / "recordings")))
PROMPTS_DIR = Path(envstr("AQUALINE_PROMPTS_DIR", str(VAR_DIR / "prompts")))

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("AQUALINE_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# The JSON API (/api/v1/, aqualine/api): token authentication, JSON only, the same permissions
# as the pages. Throttled per staff member (a request without a valid token is refused before
# throttling; a token cannot be guessed: 256 random bits).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["aqualine.api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["aqualine.api.permissions.HasRequiredPerm"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "aqualine.api.pagination.PageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "aqualine.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "aqualine.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": envstr("AQUALINE_API_RATE_USER", "600/minute")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Aqualine API",
    "DESCRIPTION": (
        "Work orders and customer lookup of the Aqualine hotline. Authenticate with "
        "`Authorization: Token <key>` (`aqualine api_token <agent ID>` issues a key). Errors: "
        "400 `{field: [reasons]}`, 401, 403, 404, 409 (someone else changed the record: reload "
        "it and apply the change again), 422 (Idempotency-Key reused), 429. Messages follow "
        "Accept-Language (zh-hans by default, en)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "aqualine.workorders.models.WorkOrder.Status",
        "TaskStatusEnum": "aqualine.workorders.models.DepartmentTask.Status",
        "AccountStatusEnum": "aqualine.customers.models.Account.Status",
        "MeterStatusEnum": "aqualine.customers.models.Meter.Status",
    },
}

# Embedded web server address (aqualine run / aqualine web).
WEB_HOST = envstr("AQUALINE_WEB_HOST", "127.0.0.1")
WEB_PORT = envint("AQUALINE_WEB_PORT", 8000)
WEB_WORKERS = envint("AQUALINE_WEB_WORKERS", 1)

# The switch: SIP and RTP addresses, and its control API (HTTP commands + WebSocket events).
SIP_HOST = envstr("AQUALINE_SIP_HOST", "127.0.0.1")
SIP_PORT = envint("AQUALINE_SIP_PORT", 5060)
SIP_TRANSPORTS = tuple(envlist("AQUALINE_SIP_TRANSPORTS", ["udp", "tcp"]))
SIP_REALM = envstr("AQUALINE_SIP_REALM", "aqualine")
# Digest algorithms offered to phones, in order. Many desk phones and sipp read only the first
# challenge and know only MD5, so MD5 comes first; phones that prefer SHA-256 still find it.
SIP_AUTH_ALGORITHMS = tuple(envlist("AQUALINE_SIP_AUTH_ALGORITHMS", ["MD5", "SHA-256"]))
SIP_EARLY_MEDIA = envbool("AQUALINE_SIP_EARLY_MEDIA", False)
RTP_HOST = envstr("AQUALINE_RTP_HOST", SIP_HOST)
RTP_PORT_MIN = envint("AQUALINE_RTP_PORT_MIN", 20000)
RTP_PORT_MAX = envint("AQUALINE_RTP_PORT_MAX", 30000)
# Seconds without RTP from a caller or an agent's phone (not on hold) before the switch hangs
# the call up (0: never).
RTP_TIMEOUT = envint("AQUALINE_RTP_TIMEOUT", 60)
SWITCH_API_HOST = envstr("AQUALINE_SWITCH_API_HOST", "127.0.0.1")
SWITCH_API_PORT = envint("AQUALINE_SWITCH_API_PORT", 5080)
SWITCH_API_URL = envstr("AQUALINE_SWITCH_API_URL", f"http://127.0.0.1:{SWITCH_API_PORT}")
SWITCH_TOKEN = _switch_token()

# Demo data password, printed at start-up (only used by `aqualine demo`).
DEMO_PASSWORD = envstr("AQUALINE_DEMO_PASSWORD", "demo96000")
