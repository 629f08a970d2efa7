"""Django's side of HTTPS in production: `check --deploy` is clean with HTTPS=true (as `make check-django` runs
it), and the session and CSRF cookies of an admin log-in are Secure and HttpOnly where they can be."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_with_the_production_settings() -> None:
    env = {**os.environ, "HTTPS": "true", "SECRET_KEY": base64.b64encode(os.urandom(48)).decode(),
           "ALLOWED_HOSTS": "bukaamanzi.example", "CHANNEL_LAYER": "memory"}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_under_https_the_admins_cookies_are_secure(client, settings) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import User

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True  # what HTTPS=true sets
    User.objects.create_superuser("moderator", "m@example.org", "a-long-moderator-passphrase")
    login_page = client.get("/admin/login/", secure=True)
    assert login_page.cookies["csrftoken"]["secure"]
    response = client.post("/admin/login/?next=/admin/", {"username": "moderator",
                           "password": "a-long-moderator-passphrase"}, secure=True)
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
