#!/usr/bin/env bash
# packaging/test/compose.sh — docker/docker-compose.yml's three members run
# through a real Docker engine, as a real ensemble; no Docker Hub needed.
#
#   packaging/test/compose.sh            (as root; about a minute)
#
# Needs what compat-tests/install-deps.sh installs: Debian's docker.io
# (dockerd 20.10, containerd, runc), docker-compose 1.29 and debootstrap.
#  1. A private Docker engine: dockerd in a network namespace of its own, with
#     its socket, data root, exec root and cgroup parent under a temp dir, so
#     its bridges, iptables rules and published ports never touch the host's
#     network (other tests use loopback and namespaces of their own) nor
#     another engine on the machine. Stopped, and its state removed, on exit,
#     failure or not.
#  2. debian:bookworm-slim made locally: `debootstrap --variant=minbase
#     bookworm` from the Debian mirror ($DEBIAN_MIRROR), imported under that
#     name into the private engine (the same release and glibc as the host
#     that built the binary); the rootfs tar is kept for the next run in
#     $FK_COMPOSE_BASE_CACHE (default /var/cache/ferrokeeper-test/; empty:
#     none).
#  3. compose_ensemble.py, in that namespace: `docker-compose up -d --build`
#     with docker/docker-compose.test.yml layered on (the Dockerfile's
#     `prebuilt` stage: target/release/ferrokeeper instead of a build in
#     rust:1-bookworm), then one leader and two followers, replication,
#     `docker kill` of the leader, re-election, rejoin, zoo1 rejoining from a
#     new IP (its peers look its name up again), `down -v`.
# Last line: "N passed, M failed"; exit 1 on any failure.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PYTHON:-python3}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE_CACHE=${FK_COMPOSE_BASE_CACHE-/var/cache/ferrokeeper-test/debian-bookworm-minbase.tar}
WORK=$(mktemp -d /tmp/fk-compose.XXXXXX)
NS=fk-compose-$$
CGROUP=fk-compose-$$
export DOCKER_HOST=unix://$WORK/docker.sock
DOCKERD_PID=
ENSEMBLE_PID=

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/     /'; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; exit; }

# Host paths dockerd creates outside its data and exec roots (the trust key,
# plugin and shim socket dirs, the default cgroup parent): removed after,
# unless they were there before.
HOST_PATHS=(/etc/docker /run/docker /run/containerd)
for c in /sys/fs/cgroup/*/; do HOST_PATHS+=("${c}docker"); done
PREEXISTING=()
for p in "${HOST_PATHS[@]}"; do [ -e "$p" ] && PREEXISTING+=("$p"); done
# shellcheck disable=SC2317 # preexisting and cleanup run from the EXIT trap
preexisting() { local p; for p in "${PREEXISTING[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

# shellcheck disable=SC2317
cleanup() {
  # nsenter execs timeout, which passes the TERM on to compose_ensemble.py.
  if [ -n "$ENSEMBLE_PID" ]; then kill "$ENSEMBLE_PID" 2>/dev/null; wait "$ENSEMBLE_PID" 2>/dev/null; fi
  if [ -n "$DOCKERD_PID" ]; then
    # Whatever compose_ensemble.py left (it runs `down -v` itself), then the engine.
    docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1
    kill "$DOCKERD_PID" 2>/dev/null
    for _ in $(seq 1 150); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$DOCKERD_PID" 2>/dev/null
    wait "$DOCKERD_PID" 2>/dev/null
  fi
  # Mounts left by a killed engine (overlay layers, the netns files), deepest first.
  grep -o " ${WORK}[^ ]*" /proc/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  rm -rf "$WORK"
  local p d
  for p in "${HOST_PATHS[@]}"; do preexisting "$p" || rm -rf "$p" 2>/dev/null; done
  for d in /sys/fs/cgroup/*/"$CGROUP"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
  done
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

if [ "$(id -u)" != 0 ]; then bad "compose: needs root (a Docker engine and a network namespace)"; finish; fi
missing=
for c in dockerd docker-compose debootstrap nsenter ip "$PY"; do
  command -v "$c" >/dev/null || missing="$missing $c"
done
if [ -n "$missing" ]; then bad "compose: not installed:$missing (compat-tests/install-deps.sh installs them)"; finish; fi
if [ ! -x "$REPO/target/release/ferrokeeper" ]; then
  bad "compose: no target/release/ferrokeeper (cargo build --release first)"; finish
fi

# ---------------------------------------------------------------- 1. engine
if ! { ip netns add "$NS" && ip -n "$NS" link set lo up; }; then bad "compose: ip netns add $NS"; finish; fi
# nsenter --net, not `ip netns exec`: that also remounts /sys, hiding the
# cgroup mounts dockerd needs ("Devices cgroup isn't mounted").
nsenter --net="/run/netns/$NS" dockerd --host "$DOCKER_HOST" --data-root "$WORK/data" \
  --exec-root "$WORK/exec" --pidfile "$WORK/dockerd.pid" --cgroup-parent "/$CGROUP" \
  >"$WORK/dockerd.log" 2>&1 &
DOCKERD_PID=$!
up=
for _ in $(seq 1 150); do
  docker version >/dev/null 2>&1 && { up=1; break; }
  kill -0 "$DOCKERD_PID" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$up" ]; then bad "compose: a private dockerd answers within 30 s" "$(tail -n 20 "$WORK/dockerd.log")"; finish; fi
ok "compose: a private dockerd in its own network namespace ($(docker info -f '{{.ServerVersion}}, storage {{.Driver}}, cgroup {{.CgroupDriver}} v{{.CgroupVersion}}' 2>&1))"

# ---------------------------------------------------------------- 2. base image
# The rootfs is kept as a tar in $BASE_CACHE (set it empty for none), so only
# the first run on a machine pays for debootstrap (20-90 s here).
t0=$SECONDS
how="cached in $BASE_CACHE"
if [ -z "$BASE_CACHE" ] || [ ! -s "$BASE_CACHE" ]; then
  how="made now"
  if out=$(debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" 2>&1); then
    # What the slim image leaves out as well: docs, man pages, apt's caches.
    rm -rf "$WORK"/rootfs/usr/share/{doc,man,info}/* "$WORK"/rootfs/var/cache/apt/* \
      "$WORK"/rootfs/var/lib/apt/lists/*
    tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" . && rm -rf "$WORK/rootfs"
  fi
  if [ -n "$BASE_CACHE" ] && [ -s "$WORK/rootfs.tar" ]; then
    mkdir -p "$(dirname "$BASE_CACHE")" && cp "$WORK/rootfs.tar" "$BASE_CACHE.tmp.$$" &&
      mv "$BASE_CACHE.tmp.$$" "$BASE_CACHE"
  fi
fi
tarball=$WORK/rootfs.tar
[ -s "$tarball" ] || tarball=$BASE_CACHE
if [ -s "$tarball" ] && out=$(docker import "$tarball" debian:bookworm-slim 2>&1) &&
  out=$(docker run --rm debian:bookworm-slim sh -c '. /etc/os-release && echo "$VERSION_CODENAME" && ldd --version | head -1' 2>&1) &&
  [ "$(head -1 <<<"$out")" = bookworm ]; then
  ok "compose: debian:bookworm-slim from debootstrap --variant=minbase bookworm, $how ($((SECONDS - t0)) s; $(tail -1 <<<"$out"))"
else
  bad "compose: debian:bookworm-slim from debootstrap" "$(tail -n 20 <<<"$out")"; finish
fi
rm -f "$WORK/rootfs.tar"

# ---------------------------------------------------------------- 3. the ensemble
# In the background, so that a signal to this script reaches the trap at once
# (cleanup stops it); tail shows its lines as they come.
: >"$WORK/ensemble.log"
nsenter --net="/run/netns/$NS" timeout -k 10 400 "$PY" "$REPO/packaging/test/compose_ensemble.py" \
  --repo "$REPO" --project fk-compose-test >"$WORK/ensemble.log" 2>&1 &
ENSEMBLE_PID=$!
tail -n +1 -f --pid="$ENSEMBLE_PID" "$WORK/ensemble.log" &
TAIL_PID=$!
wait "$ENSEMBLE_PID"
ENSEMBLE_PID=
wait "$TAIL_PID"
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$WORK/ensemble.log" | tail -n 1)
if [ -z "$line" ]; then
  bad "compose: compose_ensemble.py printed no result line"
else
  passed=$((passed + $(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")))
  failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
fi
[ "$failed" = 0 ] || { echo "dockerd log tail:"; tail -n 20 "$WORK/dockerd.log"; }
finish
