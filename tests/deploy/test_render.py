"""deploy/render.py: the nginx configuration agrees with the settings, and TLS brings HSTS and the redirect."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from deploy.render import from_settings, prepare_prefix, render
from reports.photos import MAX_PHOTO_BYTES, MAX_PHOTOS


def config(tmp_path: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    return from_settings(prefix=tmp_path / "nginx", listen="127.0.0.1:8080", pages=["127.0.0.1:8100"],
                         sockets=["127.0.0.1:8200", "127.0.0.1:8201"], foreground=True, **kwargs)


def test_the_upload_limit_leaves_room_for_every_photo_a_report_may_carry(tmp_path: Path) -> None:
    text = render(config(tmp_path))
    limit_mb = int(text.split("client_max_body_size ")[1].split("m;")[0])
    assert limit_mb * 1024 * 1024 > MAX_PHOTOS * MAX_PHOTO_BYTES
    assert "server 127.0.0.1:8201 max_fails=0;" in text


def test_plain_http_sends_no_hsts_and_tls_sends_it_on_every_location(tmp_path: Path) -> None:
    assert "Strict-Transport-Security" not in render(config(tmp_path))
    tls = render(config(tmp_path, tls_cert=Path("/etc/ssl/site.pem"), tls_key=Path("/etc/ssl/site.key"),
                        server_name="bukaamanzi.example"))
    # static, media, /ws/ and the rest: an add_header in a location replaces the server's.
    assert tls.count("add_header Strict-Transport-Security") == 4
    assert "return 301 https://$host$request_uri;" in tls and "ssl_certificate /etc/ssl/site.pem;" in tls


def test_the_rendered_configuration_passes_nginx_t(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    cfg = config(tmp_path)
    prepare_prefix(cfg.prefix)
    conf = cfg.prefix / "nginx.conf"
    conf.write_text(render(cfg))
    check = subprocess.run([nginx, "-t", "-q", "-p", str(cfg.prefix), "-c", str(conf), "-e",
                            str(cfg.prefix / "logs" / "error.log")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
