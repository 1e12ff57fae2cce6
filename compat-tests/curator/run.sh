#!/usr/bin/env bash
# curator/run.sh - compile (if needed) and run CuratorCompat against $ZK_CONNECT.
# Classes go to compat-tests/.work/curator-classes (ignored by git).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
: "${ZK_CONNECT:?set ZK_CONNECT=127.0.0.1:PORT}"
J=/usr/share/java
# the Debian jars' manifests carry their own Class-Path (guava, zookeeper, jute, netty, ...);
# slf4j-nop silences logging.
CP="$J/curator-recipes.jar:$J/curator-framework.jar:$J/curator-client.jar:$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar:$J/slf4j-nop.jar"
OUT="$HERE/../.work/curator-classes"
SRC="$HERE/src/CuratorCompat.java"
if [ ! -f "$OUT/CuratorCompat.class" ] || [ "$SRC" -nt "$OUT/CuratorCompat.class" ]; then
  mkdir -p "$OUT"
  javac -nowarn -d "$OUT" -cp "$CP" "$SRC"
fi
exec java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$OUT:$CP" CuratorCompat "$ZK_CONNECT"
