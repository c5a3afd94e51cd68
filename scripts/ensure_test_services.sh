#!/usr/bin/env bash
# Starts (or installs) what the test suite talks to: PostgreSQL on 127.0.0.1:5432 and
# Debian's chromium for the browser tests. Idempotent; prints what it did.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

postgres_ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "ensure_test_services: installing postgresql"
  apt_install postgresql
fi
if ! postgres_ready; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "ensure_test_services: starting postgresql $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 60); do postgres_ready && break; sleep 0.5; done
fi
postgres_ready || { echo "ensure_test_services: postgres is not accepting connections on 127.0.0.1:5432" >&2; exit 1; }
# the tests connect as postgres with trust auth on loopback; the default cluster has a 'test' database here
if ! psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
  as_root su postgres -c "psql -Atc \"select 1 from pg_database where datname='test'\" | grep -q 1 || createdb test" || true
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "ensure_test_services: installing Debian's chromium"
  apt_install chromium
fi
echo "ensure_test_services: postgres ready, chromium at /usr/bin/chromium"
