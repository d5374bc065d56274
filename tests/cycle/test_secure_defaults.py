"""Secure by default outside development: settings that refuse to start unsafe, HTTPS and
cookies, a content security policy, and sign-in throttling.

The settings are read once, at start, so each production case starts a fresh interpreter with
exactly the environment given (nothing inherited from the test run).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings

from cycle.conf.security import client_ip

ROOT = Path(__file__).resolve().parents[2]
SIGN_IN = "/accounts/login/"


def production_environment() -> dict[str, str]:
    """The environment the README's production section documents, each ``<…>`` filled in."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    production = text.split("## Production", 1)[1].split("\n## ", 1)[0]
    block = next(
        block
        for block in re.findall(r"```sh\n(.*?)```", production, flags=re.S)
        if "DEBUG=false" in block
    )
    variables = {}
    for line in block.splitlines():
        name, _, value = line.partition("=")
        variables[name.strip()] = re.sub(r"<[^>]*>", lambda _: secrets.token_urlsafe(50), value)
    return variables


def run(code: str, environment: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    """Python ``code`` in a fresh interpreter with only ``environment`` (and what Python needs)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "CYCLE_NO_BOOTSTRAP": "1",
        "CYCLE_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "cycle.conf.settings",
        **environment,
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


LOAD_SETTINGS = "import django; django.setup(); print('started')"


@pytest.mark.parametrize(
    ("environment", "refusal"),
    [
        ({"DEBUG": "false", "ALLOWED_HOSTS": "cycle.example.org"}, "set SECRET_KEY"),
        ({"DEBUG": "false", "SECRET_KEY": "k" * 50}, "set ALLOWED_HOSTS"),
        (
            {
                "DEBUG": "false",
                "ALLOWED_HOSTS": "cycle.example.org",
                "SECRET_KEY": "dev-only-not-secret-5d1c0c5b8f2f4a0f9f1c",
            },
            "SECRET_KEY is the development key, which works only with DEBUG on",
        ),
        (
            {"SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "cycle.example.org"},
            "SECRET_KEY is set but DEBUG is not: set DEBUG=false in production",
        ),
    ],
    ids=["no-secret-key", "no-allowed-hosts", "development-key", "debug-not-said"],
)
def test_production_settings_refuse_to_start_unsafe(tmp_path, environment, refusal):
    started = run(LOAD_SETTINGS, environment, tmp_path)

    assert started.returncode != 0
    assert "started" not in started.stdout
    assert f"django.core.exceptions.ImproperlyConfigured: Unsafe settings: {refusal}" in (
        started.stderr
    )


def test_development_starts_with_nothing_set_and_debug_on(tmp_path):
    started = run(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.SECURE_SSL_REDIRECT)",
        {},
        tmp_path,
    )
    assert (started.returncode, started.stdout.split()) == (0, ["True", "False", "False"])


def test_check_deploy_reports_nothing_with_the_readmes_production_environment(tmp_path):
    environment = production_environment()
    assert environment["DEBUG"] == "false"

    checked = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", str(tmp_path)),
            "CYCLE_NO_BOOTSTRAP": "1",
            **environment,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert (checked.returncode, checked.stderr) == (0, "")
    silenced = len(settings.SILENCED_SYSTEM_CHECKS)
    assert checked.stdout.strip() == f"System check identified no issues ({silenced} silenced)."
    # The one check silenced is guardian's search for its backend by name (the settings say why).
    assert settings.SILENCED_SYSTEM_CHECKS == ["guardian.W001"]


RESPONSES = """
import json, django
django.setup()
from django.core.management import call_command
from django.test import Client
call_command("migrate", verbosity=0)
host = "cycle.example.org"
client = Client()
plain = client.get("/accounts/login/", HTTP_HOST=host)
health = client.get("/healthz", HTTP_HOST=host)
proxied = client.get("/accounts/login/", HTTP_HOST=host, HTTP_X_FORWARDED_PROTO="https")
cookie = proxied.cookies["csrftoken"]
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "health_redirected": health.status_code in (301, 302),
    "proxied": proxied.status_code,
    "hsts": proxied.get("Strict-Transport-Security"),
    "csp": proxied.get("Content-Security-Policy"),
    "cookie": {"secure": bool(cookie["secure"]), "httponly": bool(cookie["httponly"])},
    "session_cookie": [
        django.conf.settings.SESSION_COOKIE_SECURE, django.conf.settings.SESSION_COOKIE_HTTPONLY
    ],
}))
"""


def test_production_redirects_to_https_sends_hsts_and_secure_httponly_cookies(tmp_path):
    environment = production_environment()
    # The same environment, on a database of its own instead of the README's example host.
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'production.sqlite3'}"

    answered = run(RESPONSES, environment, tmp_path)

    assert answered.returncode == 0, answered.stderr
    seen = json.loads(answered.stdout.strip().splitlines()[-1])
    assert seen["plain"] == [301, "https://cycle.example.org/accounts/login/"]
    assert seen["health_redirected"] is False, "the load balancer's health check is not redirected"
    assert seen["proxied"] == 200, "behind the proxy, X-Forwarded-Proto: https is HTTPS"
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert "script-src 'self'" in seen["csp"]
    assert seen["cookie"] == {"secure": True, "httponly": True}
    assert seen["session_cookie"] == [True, True]


# The content security policy --------------------------------------------------------------------


def policy(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (directive.split() for directive in header.split(";") if directive)
    }


@pytest.mark.django_db
@pytest.mark.parametrize("path", [SIGN_IN, "/admin/login/", "/api/docs/"])
def test_the_pages_allow_only_the_sites_own_scripts_and_styles(admin_client, path):
    response = admin_client.get(path, follow=True)

    seen = policy(response)
    assert seen["default-src"] == ["'self'"]
    assert seen["script-src"] == ["'self'"]
    assert seen["style-src"] == ["'self'"]
    assert seen["object-src"] == ["'none'"]
    assert seen["frame-ancestors"] == ["'none'"]
    assert seen["form-action"] == ["'self'"]


@pytest.mark.django_db
def test_the_process_pages_whose_markup_has_style_attributes_may_use_inline_style_only(
    admin_client,
):
    response = admin_client.get("/processes/", follow=True)

    seen = policy(response)
    assert seen["style-src"] == ["'self'", "'unsafe-inline'"]
    assert seen["script-src"] == ["'self'"]


# Sign-in throttling ------------------------------------------------------------------------------


@pytest.fixture
def member(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("pat.jones", password="the-right-password")


def sign_in(client: Client, password: str, path: str = SIGN_IN, **extra: Any) -> Any:
    return client.post(path, {"username": "pat.jones", "password": password}, **extra)


@pytest.mark.django_db
def test_five_wrong_passwords_lock_that_username_out_from_that_address(member, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong").status_code == 200  # the form again, with its error
    locked = sign_in(client, "wrong")
    assert locked.status_code == 429
    assert b"Too many attempts to sign in" in locked.content
    assert b"paused for 15 minutes" in locked.content

    refused = sign_in(client, "the-right-password")
    assert refused.status_code == 429, "locked out, even the right password is refused"
    assert "_auth_user_id" not in client.session

    elsewhere = Client(REMOTE_ADDR="10.0.0.9")
    assert sign_in(elsewhere, "the-right-password").status_code == 302, "another address"


@pytest.mark.django_db
def test_a_successful_sign_in_clears_the_count_of_failures(member, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong")
    assert sign_in(client, "the-right-password").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong").status_code == 200
    assert sign_in(client, "the-right-password").status_code == 302


@pytest.mark.django_db
def test_the_admins_sign_in_is_throttled_too(member, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong", "/admin/login/")
    assert sign_in(client, "the-right-password", "/admin/login/").status_code == 429


@pytest.mark.django_db
def test_the_api_takes_the_session_of_the_throttled_sign_in(member):
    client = Client()
    assert client.get("/api/v1/cycles/").status_code in (401, 403)
    assert sign_in(client, "the-right-password").status_code == 302
    assert client.get("/api/v1/cycles/").status_code == 200


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "10.1.1.1"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (2, "198.51.100.1, 203.0.113.7", "198.51.100.1"),
        (2, "203.0.113.7", "10.1.1.1"),
    ],
)
def test_the_client_address_is_taken_from_as_many_proxies_as_are_trusted(
    rf, count, forwarded, expected
):
    request = rf.get(SIGN_IN, HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.1.1.1")
    with override_settings(TRUSTED_PROXY_COUNT=count):
        assert client_ip(request) == expected
