# PostgreSQL for the storage tests (issue 7). Meant to be pasted into (or
# sourced by) .ci/run before `npm run ci`: installs Debian's postgresql when
# no server binaries exist, starts a throwaway server on a free localhost
# port in a temporary directory (as the postgres user when running as root:
# initdb refuses root), exports PG_TEST_URL for the tests, and stops the
# server when the script exits. Without PG_TEST_URL the tests start their
# own server from the same binaries (slower: one initdb per test file).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
PG_DIR="$(mktemp -d /tmp/streamwatch-ci-pg.XXXXXX)"
PG_PORT=""
for candidate in $(seq 55432 55482); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then PG_PORT=$candidate; break; fi
done
[ -n "$PG_PORT" ] || { echo "no free port for PostgreSQL" >&2; exit 1; }
if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$PG_DIR"; PG_AS="runuser -u postgres --"; else PG_AS=""; fi
$PG_AS "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
$PG_AS "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
  -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50" >/dev/null
trap '$PG_AS "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true; rm -rf "$PG_DIR"' EXIT
export PG_TEST_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
