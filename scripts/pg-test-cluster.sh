#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `pg-test-cluster.sh PORT` makes
# one in a temporary directory, starts it on 127.0.0.1:PORT, prints its URL on
# one line, and keeps it running until its standard input closes (the test
# process that started it exited, however it exited); then it stops the
# cluster and deletes the directory. PostgreSQL refuses to run as root, so as
# root it runs as Debian's `postgres` user.
set -euo pipefail
port=${1:?usage: pg-test-cluster.sh PORT}

bindir=""
if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
  bindir=$(pg_config --bindir)
else
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "PostgreSQL is not installed: scripts/setup.sh --test installs it (apt-get install postgresql)" >&2
  exit 1
fi

dir=$(mktemp -d /tmp/medvault-pg-XXXXXX)
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$dir"
  as_owner=(runuser -u postgres --)
fi
cleanup() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

"${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U medvault -A trust -E UTF8 --locale=C \
  --no-sync >"$dir/initdb.log" 2>&1 || {
  cat "$dir/initdb.log" >&2
  exit 1
}
# Durable as in production (fsync on): the crash tests rely on it.
if ! "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=64MB" \
  start >/dev/null; then
  cat "$dir/postgres.log" >&2
  exit 1
fi
echo "postgres://medvault@127.0.0.1:$port/postgres"
# Until the test process goes away.
cat >/dev/null || true
