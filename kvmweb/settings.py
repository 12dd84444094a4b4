"""Settings come from the environment so that the same code runs the demo, CI and compose.

KVMWEB_DATABASE_URL   postgres://user@host:5432/name or sqlite:///path (default: sqlite in var/)
KVMWEB_REDIS_URL      redis://127.0.0.1:6379/0 — Celery broker, results and the channel layer
KVMWEB_SECRET_KEY     required unless KVMWEB_DEBUG=1
KVMWEB_ALLOWED_HOSTS  comma separated (default: localhost,127.0.0.1)
KVMWEB_DEMO_NODE      node file loaded into test+unix:///default hosts (default: the shipped one)
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KVMWEB_VAR_DIR", BASE_DIR / "var"))


def env_bool(name, default=False):
    return os.environ.get(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


DEBUG = env_bool("KVMWEB_DEBUG")
SECRET_KEY = os.environ.get("KVMWEB_SECRET_KEY") or ("insecure-dev-key" if DEBUG else None)
if not SECRET_KEY:
    raise RuntimeError("KVMWEB_SECRET_KEY is not set (or set KVMWEB_DEBUG=1 for development)")
ALLOWED_HOSTS = os.environ.get("KVMWEB_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")
# Behind a reverse proxy: the header holding the client address, believed only when the direct
# peer is one of the trusted proxies (e.g. KVMWEB_PROXY_IP_HEADER=HTTP_X_FORWARDED_FOR).
KVMWEB_PROXY_IP_HEADER = os.environ.get("KVMWEB_PROXY_IP_HEADER", "")
KVMWEB_TRUSTED_PROXIES = tuple(p for p in os.environ.get("KVMWEB_TRUSTED_PROXIES", "").split(",") if p)
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("KVMWEB_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "channels",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "apps.core",
    "apps.authz",
    "apps.accounts",
    "apps.accounts.security",
    "apps.audit",
    "apps.operations",
    "apps.hosts",
    "apps.storage",
    "apps.network",
    "apps.compute",
    "apps.consoles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.authz.rights.RightsCacheMiddleware",  # what the user holds, read once per request
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "apps.core.context.RequestContextMiddleware",
    "apps.accounts.security.middleware.RequireSecondFactorMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as axes asks: it turns a lock-out into the login page
]

ROOT_URLCONF = "kvmweb.urls"
ASGI_APPLICATION = "kvmweb.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.accounts.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("KVMWEB_DATABASE_URL", f"sqlite:///{VAR_DIR / 'kvmweb.sqlite3'}"),
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, worker and monitor write concurrently in the demo: WAL plus a busy timeout keeps
    # them from failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "compute:vm_list"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = int(os.environ.get("KVMWEB_SESSION_AGE", 8 * 3600))
SESSION_COOKIE_HTTPONLY = True
# With this on the cookie dies with the browser; the server still ends the session after
# SESSION_COOKIE_AGE (Django stores that expiry with the session either way).
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("KVMWEB_SESSION_EXPIRE_AT_BROWSER_CLOSE")

# Login security (apps/accounts/security). axes' backend only refuses locked-out logins; the
# ModelBackend after it checks the password.
AUTHENTICATION_BACKENDS = [
    "apps.accounts.security.throttle.AxesBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("KVMWEB_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("KVMWEB_LOGIN_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # one address guessing one account
AXES_RESET_ON_SUCCESS = True
# Attempts during a lock-out neither count nor extend it: the cool-off runs from the locking failure.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "apps.accounts.security.throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "apps.accounts.security.throttle.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]
AXES_DISABLE_ACCESS_LOG = True  # successful logins are in the audit log
OTP_TOTP_ISSUER = os.environ.get("KVMWEB_OTP_ISSUER", "kvmweb")
# Superusers and global Administrators must enrol a TOTP device before they can do anything else.
KVMWEB_REQUIRE_2FA_FOR_ADMINS = env_bool("KVMWEB_REQUIRE_2FA_FOR_ADMINS")

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("KVMWEB_TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"

REDIS_URL = os.environ.get("KVMWEB_REDIS_URL", "redis://127.0.0.1:6379/0")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py 8 times socket reads out after 5 s, the same as channels_redis' blocking read:
        # idle sockets would drop and reconnect every few seconds without a longer timeout.
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}], "prefix": os.environ.get("KVMWEB_CHANNEL_PREFIX", "kvmweb")},
    }
}

# Celery: a real worker on Redis. Tasks ack late so a worker that dies mid-task has the message
# redelivered; the task then sees its Operation already "running" and fails it instead of
# repeating a hypervisor action blindly (see apps/operations/tasks.py).
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("KVMWEB_TASK_SOFT_LIMIT", 300))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("KVMWEB_TASK_HARD_LIMIT", 360))
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "reap-stale-operations": {"task": "operations.reap_stale", "schedule": 60.0},
    # VM screen thumbnails (apps/consoles/screens.py): each up host's running VMs, every 30 s.
    "refresh-screens": {"task": "consoles.screens_tick", "schedule": 30.0, "options": {"expires": 25}},
}

# Where dir/fs/netfs pools may put their target (a form error outside them), and the largest upload.
# libvirt's and the system's own directories are refused whatever this says (storage/pool_policy.py).
KVMWEB_POOL_PATH_PREFIXES = os.environ.get(
    "KVMWEB_POOL_PATH_PREFIXES", "/var/lib/libvirt/,/srv/,/mnt/,/data/"
).split(",")
KVMWEB_UPLOAD_MAX_BYTES = int(os.environ.get("KVMWEB_UPLOAD_MAX_BYTES", 64 * 1024**3))

# libvirt's test driver hosts (a fake hypervisor): for the demo and the tests, off in production.
KVMWEB_ALLOW_TEST_HOSTS = os.environ.get("KVMWEB_ALLOW_TEST_HOSTS", "").lower() in ("1", "true", "yes", "on")

# Install trees are fetched by the worker for a user, so only from public addresses; networks
# listed here (comma-separated, e.g. "192.0.2.0/24,10.1.2.3") are allowed too: a local mirror.
INSTALL_TREE_ALLOW = os.environ.get("KVMWEB_INSTALL_TREE_ALLOW", "")

KVMWEB_DEMO_NODE = os.environ.get("KVMWEB_DEMO_NODE", str(BASE_DIR / "apps/hosts/demo/node.xml"))
# The monitor's tick: one bulk stats call per host, and the reconnect backoff ceiling.
KVMWEB_MONITOR_TICK = float(os.environ.get("KVMWEB_MONITOR_TICK", 2.0))
KVMWEB_RECONNECT_MAX = float(os.environ.get("KVMWEB_RECONNECT_MAX", 30.0))
# Consoles (apps/consoles): how many a user may have open at once, and whether a user who may
# see a VM but not use its console gets a view-only graphical console (no keys, no pointer).
KVMWEB_CONSOLE_SESSIONS_PER_USER = int(os.environ.get("KVMWEB_CONSOLE_SESSIONS_PER_USER", 4))
KVMWEB_CONSOLE_VIEW_ONLY = env_bool("KVMWEB_CONSOLE_VIEW_ONLY", default=False)
# On the local host the relay asks libvirt for a socket to the display (no address to reach, which
# a container cannot); off, it connects to the address or unix socket the display listens on.
KVMWEB_CONSOLE_GRAPHICS_FD = env_bool("KVMWEB_CONSOLE_GRAPHICS_FD", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KVMWEB_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        # axes logs a banner at INFO in every process it starts in, and every login at INFO too
        # (the audit log has those); its warnings (failures, lock-outs) still show.
        "axes": {"level": "WARNING"},
    },
}


# -- Security / HTTPS ---------------------------------------------------------------------------
# KVMWEB_HTTPS=1: the site is served over HTTPS by a TLS-terminating proxy in front of the ASGI
# server (compose.yaml's Caddy). `manage.py check --deploy` passes with it (tests/test_deploy.py).
SILENCED_SYSTEM_CHECKS = []
KVMWEB_HTTPS = env_bool("KVMWEB_HTTPS")
if KVMWEB_HTTPS:
    # Django believes this header from whoever sends it, so it is only safe where the proxy is the
    # one way in and sets the header itself (Caddy overwrites a client's): never publish the
    # ASGI server's port beside the proxy's.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Plain http reaching Django is sent to https. WebSockets do not pass through Django's
    # middleware; behind the proxy they are wss:// anyway.
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # A year, as Django's deployment checklist suggests; lower it while trying TLS out, since the
    # browser then refuses plain http to this host name (every port) until it runs out.
    SECURE_HSTS_SECONDS = int(os.environ.get("KVMWEB_HSTS_SECONDS", 365 * 24 * 3600))
    # Both bind more than this site (every subdomain; browsers' built-in lists), so they are the
    # domain owner's choice, off unless asked for; `check --deploy` is told that is deliberate.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("KVMWEB_HSTS_INCLUDE_SUBDOMAINS")
    SECURE_HSTS_PRELOAD = env_bool("KVMWEB_HSTS_PRELOAD")
    if not SECURE_HSTS_INCLUDE_SUBDOMAINS:
        SILENCED_SYSTEM_CHECKS.append("security.W005")
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS.append("security.W021")

# Content-Security-Policy (django-csp), on unless KVMWEB_CSP=0: script only from this site's
# files (no inline script or handler, no eval: htmx attributes that evaluate JavaScript, such as
# hx-on or trigger filters, are written as listeners in static/js/behaviours.js), styles from its
# files plus style attributes (computed widths), images also as data: URIs (Bootstrap's icons),
# requests and the live WebSocket to the same origin only ('self' covers ws/wss of the page's
# host), and no framing. An inline <script> that cannot move out uses nonce="{{ request.csp_nonce }}".
KVMWEB_CSP = env_bool("KVMWEB_CSP", default=True)
if KVMWEB_CSP:
    from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE

    INSTALLED_APPS.append("csp")
    MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware")
    CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {
            "default-src": [SELF],
            "script-src": [SELF, NONCE],
            "style-src": [SELF],
            "style-src-attr": [UNSAFE_INLINE],
            "img-src": [SELF, "data:"],
            "connect-src": [SELF],
            "font-src": [SELF],
            "object-src": [NONE],
            "base-uri": [NONE],
            "form-action": [SELF],
            "frame-ancestors": [NONE],
        }
    }

# The demo's SQLite cannot hold authz.Grant's unique constraint over NULL scopes (PostgreSQL, for
# production and the tests, does); grant_add's get_or_create keeps grants single there.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    SILENCED_SYSTEM_CHECKS.append("models.W047")
