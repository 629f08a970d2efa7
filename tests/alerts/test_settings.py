"""EMAIL_URL configures the mail backend; with nothing set every email is a file under var/mail/ (nothing lost,
readable by a developer); a malformed URL stops start-up naming the variable."""

from __future__ import annotations

from tests.test_setup import manage

SHOW = "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, " \
       "s.EMAIL_USE_SSL, s.EMAIL_HOST_USER, getattr(s, 'EMAIL_FILE_PATH', ''))"


def show(**env: str) -> str:
    result = manage("shell", "-c", SHOW, env={"EMAIL_URL": "", **env})
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


def test_with_nothing_set_emails_are_files_under_var_mail() -> None:
    backend, *_rest, path = show().split()
    assert backend == "django.core.mail.backends.filebased.EmailBackend" and path.endswith("var/mail")


def test_smtp_urls_set_host_port_user_and_encryption() -> None:
    assert show(EMAIL_URL="smtp+tls://alerts:secret@mail.example:587").split() == [
        "django.core.mail.backends.smtp.EmailBackend", "mail.example", "587", "True", "False", "alerts"]
    assert show(EMAIL_URL="smtp+ssl://mail.example:465").split()[2:5] == ["465", "False", "True"]
    assert show(EMAIL_URL="smtp://127.0.0.1:2525").split()[1:5] == ["127.0.0.1", "2525", "False", "False"]


def test_a_malformed_email_url_stops_start_up_naming_the_variable() -> None:
    result = manage("check", env={"EMAIL_URL": "carrier-pigeon://coop"})
    assert result.returncode != 0 and "EMAIL_URL" in result.stderr
