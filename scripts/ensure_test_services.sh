#!/usr/bin/env bash
# Installs what the test suite needs: PostgreSQL's binaries (the suite starts its own throwaway
# server with them; see tests/support/postgres.py) and Debian's chromium for the browser tests.
# With TENKAIGEN_TEST_PG_URL set, the suite uses that server instead, so it must answer.
# Idempotent; prints what it did.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || {
    echo "ensure_test_services: no apt-get here: install $* yourself" >&2; exit 1; }
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# the same search as tests/support/postgres.py: PATH first, else Debian's newest version
postgres_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return
  fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$found" ] && [ -x "$found/initdb" ]; then echo "$found"; fi
}

if [ -z "$(postgres_bin)" ]; then
  echo "ensure_test_services: installing postgresql"
  apt_install postgresql
fi
bin=$(postgres_bin)
[ -n "$bin" ] || { echo "ensure_test_services: no initdb after installing postgresql" >&2; exit 1; }
if [ -z "${TENKAIGEN_TEST_PG_URL:-}" ] && [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  # postgres refuses to run as root: as root the suite runs its server as this account
  echo "ensure_test_services: adding the system account postgres"
  useradd --system --user-group --home-dir /nonexistent --shell /usr/sbin/nologin postgres
fi

if [ -n "${TENKAIGEN_TEST_PG_URL:-}" ]; then
  psql_bin="$bin/psql"; [ -x "$psql_bin" ] || psql_bin=psql
  PGCONNECT_TIMEOUT=5 "$psql_bin" "$TENKAIGEN_TEST_PG_URL" -Atc 'select 1' >/dev/null || {
    echo "ensure_test_services: TENKAIGEN_TEST_PG_URL=$TENKAIGEN_TEST_PG_URL does not answer" >&2; exit 1; }
  postgres_status="TENKAIGEN_TEST_PG_URL answers"
else
  postgres_status="PostgreSQL binaries in $bin (the suite starts its own server)"
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "ensure_test_services: installing Debian's chromium"
  apt_install chromium
fi
echo "ensure_test_services: $postgres_status, chromium at /usr/bin/chromium"
