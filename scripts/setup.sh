#!/usr/bin/env bash
# Installs what is missing on a Debian/Ubuntu machine, then builds .venv from a Python that can load SQLite
# extensions (SpatiaLite needs that). Quick and silent when everything is already there.
#   scripts/setup.sh            system packages + venv + requirements
#   scripts/setup.sh --test     also what the test command needs (PostGIS, Chromium, node packages), wrk,
#                               the load generator bench/http drives the servers with, and nginx, the proxy of
#                               the production layout `make prod-check` starts (deploy/, docs/deploy.md)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=false
[[ "${1:-}" == "--test" ]] && want_test=true

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[1;31mSet-up stopped: %s\033[0m\n' "$*" >&2; exit 1; }

# --- System packages -----------------------------------------------------------------------------------
packages=(gdal-bin libgdal-dev libproj-dev binutils libsqlite3-mod-spatialite redis-server python3-venv gettext)
if $want_test; then
  packages+=(postgresql-15 postgresql-15-postgis-3 chromium wrk)
  # Debian's nginx: only its binary is used, run by deploy/layout.py with a private prefix under var/ (its
  # package's own service is never started or configured by us).
  packages+=(nginx)
  # Node and npm may come from elsewhere than Debian (as on these machines): a working npm is enough.
  command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null 2>&1; then
    die "these system packages are missing and this is not a Debian/Ubuntu machine: ${missing[*]}"
  fi
  if [[ $(id -u) -eq 0 ]]; then sudo=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"
  else
    die "missing system packages. Run this once, then run make again:
    sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  fi
  say "Installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get could not install: ${missing[*]}"
fi

# --- A Python that can load SQLite extensions --------------------------------------------------------------
can_load_extensions() {
  "$1" -c 'import sqlite3, sys; sys.exit(0 if sys.version_info >= (3, 11) and hasattr(sqlite3.Connection, "enable_load_extension") else 1)' 2>/dev/null
}
if [[ -x .venv/bin/python ]] && ! can_load_extensions .venv/bin/python; then
  say "The existing .venv cannot load SQLite extensions; rebuilding it"
  rm -rf .venv
fi
if [[ ! -x .venv/bin/python ]]; then
  python=""
  for candidate in "${PYTHON:-}" /usr/bin/python3.11 /usr/bin/python3 python3.11 python3; do
    [[ -n "$candidate" ]] && command -v "$candidate" >/dev/null 2>&1 && can_load_extensions "$candidate" \
      && { python=$(command -v "$candidate"); break; }
  done
  [[ -n "$python" ]] || die "no Python 3.11+ here can load SQLite extensions (SpatiaLite needs it).
    On Debian: apt-get install python3 python3-venv   (and use /usr/bin/python3, not a pyenv build),
    or set PYTHON=/path/to/python3 built with --enable-loadable-sqlite-extensions."
  say "Creating .venv with $python"
  "$python" -m venv .venv || die "could not create .venv (apt-get install python3-venv)"
fi

# --- Python packages (each file only when it changed) -----------------------------------------------------
reqs=(requirements.txt)
$want_test && reqs+=(requirements-dev.txt)
for r in "${reqs[@]}"; do
  stamp=.venv/.installed-$r-$(sha256sum "$r" | cut -c1-16)
  if [[ ! -f $stamp ]]; then
    say "Installing Python packages ($r)"
    .venv/bin/python -m pip install -q --disable-pip-version-check -r "$r" || die "pip could not install $r"
    rm -f .venv/.installed-"$r"-*; touch "$stamp"
  fi
done

# --- Front-end test tools from the npm registry (Playwright driver and axe-core; no browser download) ------
if $want_test && [[ -f package.json ]]; then
  lock_stamp=node_modules/.installed-$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
  if [[ ! -f $lock_stamp ]]; then
    say "Installing node packages"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund >/dev/null || die "npm ci failed"
    touch "$lock_stamp"
  fi
fi

mkdir -p var
