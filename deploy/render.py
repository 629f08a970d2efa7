"""Render deploy/nginx.conf.template into a working nginx configuration.

    .venv/bin/python -m deploy.render --out /etc/nginx/sites-available/bukaamanzi.conf --listen 443 \
        --server-name bukaamanzi.example --tls-cert /etc/ssl/... --tls-key /etc/ssl/... \
        --pages 127.0.0.1:8100,127.0.0.1:8101 --sockets 127.0.0.1:8200,127.0.0.1:8201 --prefix /var/lib/bukaamanzi/nginx

The paths nginx serves directly (STATIC_ROOT, MEDIA_ROOT) and the upload limit (the photo limits of
reports/photos.py) come from the site's own settings, so the proxy cannot disagree with Django about them.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
# Room for a report's text fields around its photos (multipart headers, the title and description).
FORM_OVERHEAD_BYTES = 1024 * 1024


@dataclass(frozen=True)
class NginxConfig:
    prefix: Path  # nginx's private directory: pid, logs, temporary files
    listen: str  # "127.0.0.1:8080", "80" or "443" (with TLS)
    pages: list[str]  # host:port of each page process
    sockets: list[str]  # host:port of each socket process
    static_root: Path
    media_root: Path
    max_body_bytes: int
    max_photos: int
    max_photo_bytes: int
    server_name: str = "_"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    user: str | None = None  # the workers' user when nginx starts as root ("www-data"); None: nginx's default
    foreground: bool = False  # `daemon off`: run under a process that controls it (deploy/layout.py, systemd)
    access_log: bool = True
    extra: dict[str, str] = field(default_factory=dict)


def from_settings(**kwargs: object) -> NginxConfig:
    """A configuration whose paths and upload limit are the Django settings' (needs DJANGO_SETTINGS_MODULE)."""
    import django

    django.setup()
    from django.conf import settings

    from reports.photos import MAX_PHOTO_BYTES, MAX_PHOTOS

    return NginxConfig(static_root=Path(settings.STATIC_ROOT), media_root=Path(settings.MEDIA_ROOT),
                       max_body_bytes=MAX_PHOTOS * MAX_PHOTO_BYTES + FORM_OVERHEAD_BYTES,
                       max_photos=MAX_PHOTOS, max_photo_bytes=MAX_PHOTO_BYTES, **kwargs)  # type: ignore[arg-type]


def _servers(addresses: list[str]) -> str:
    # max_fails=0: a refused connection moves the request to the next process at once, and the dead process is
    # tried again on the next request, so a restarted process gets its share back without a pause.
    return "\n".join(f"        server {address} max_fails=0;" for address in addresses)


def render(config: NginxConfig) -> str:
    if not config.pages or not config.sockets:
        raise ValueError("at least one page process and one socket process are needed")
    tls = config.tls_cert is not None
    if tls != (config.tls_key is not None):
        raise ValueError("TLS needs both a certificate and its key")
    hsts = ('            add_header Strict-Transport-Security "max-age=31536000; includeSubDomains; preload" always;\n'
            "            proxy_hide_header Strict-Transport-Security;") if tls else ""
    values = {
        "USER_LINE": f"user {config.user};" if config.user else "",
        "DAEMON_LINE": "daemon off;" if config.foreground else "",
        "PREFIX": str(config.prefix),
        "ACCESS_LOG": f"{config.prefix}/logs/access.log" if config.access_log else "off",
        "MAX_PHOTOS": str(config.max_photos),
        "MAX_PHOTO_MB": str(config.max_photo_bytes // (1024 * 1024)),
        "CLIENT_MAX_BODY_SIZE": f"{-(-config.max_body_bytes // (1024 * 1024))}m",
        "PAGE_SERVERS": _servers(config.pages),
        "SOCKET_SERVERS": _servers(config.sockets),
        "LISTEN": f"{config.listen} ssl http2" if tls else config.listen,
        "SERVER_NAME": config.server_name,
        "TLS_LINES": (f"        ssl_certificate {config.tls_cert};\n        ssl_certificate_key {config.tls_key};\n"
                      "        ssl_protocols TLSv1.2 TLSv1.3;\n        ssl_session_cache shared:tls:10m;")
        if tls else "",
        # With TLS, plain HTTP only redirects to HTTPS.
        "REDIRECT_SERVER": ("    server {\n        listen 80;\n        server_name " + config.server_name
                            + ";\n        return 301 https://$host$request_uri;\n    }") if tls else "",
        "HSTS_LINE": hsts,
        "STATIC_ROOT": str(config.static_root),
        "MEDIA_ROOT": str(config.media_root),
        **config.extra,
    }
    # proxy_hide_header is valid only where proxying happens; the static locations keep the header alone.
    text = TEMPLATE.read_text()
    rendered = re.sub(r"\{\{ ([A-Z_]+) \}\}", lambda m: values[m.group(1)], text)
    return rendered


def prepare_prefix(prefix: Path) -> None:
    """The directories nginx writes to under its private prefix."""
    for sub in ("logs", "tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--prefix", type=Path, required=True, help="nginx's pid, logs and temporary files")
    parser.add_argument("--listen", default="80")
    parser.add_argument("--server-name", default="_")
    parser.add_argument("--pages", required=True, help="host:port of the page processes, comma-separated")
    parser.add_argument("--sockets", required=True, help="host:port of the socket processes, comma-separated")
    parser.add_argument("--tls-cert", type=Path)
    parser.add_argument("--tls-key", type=Path)
    parser.add_argument("--user", help="the workers' user when nginx starts as root (www-data on Debian)")
    parser.add_argument("--foreground", action="store_true", help="daemon off (under systemd or a supervisor)")
    args = parser.parse_args()
    config = from_settings(prefix=args.prefix.resolve(), listen=args.listen, server_name=args.server_name,
                           pages=args.pages.split(","), sockets=args.sockets.split(","), tls_cert=args.tls_cert,
                           tls_key=args.tls_key, user=args.user, foreground=args.foreground)
    prepare_prefix(config.prefix)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(config))
    print(f"wrote {args.out}; check it with: nginx -t -p {config.prefix} -c {args.out.resolve()}")


if __name__ == "__main__":
    main()
