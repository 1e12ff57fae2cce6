#!/usr/bin/env bash
# build-java-prometheus.sh - builds, for the reference server only, the two things Debian
# does not package that Java ZooKeeper 3.8.0 needs to serve Prometheus /metrics:
#
#   - the Prometheus Java client 0.9.0 (the version ZooKeeper 3.8.0's pom pins): the
#     modules PrometheusMetricsProvider imports - simpleclient, simpleclient_common (the
#     text format), simpleclient_servlet (MetricsServlet) and simpleclient_hotspot
#     (DefaultExports, used when exportJvmInfo=true);
#   - ZooKeeper 3.8.0's zookeeper-prometheus-metrics module (PrometheusMetricsProvider).
#
# Sources come from the local git mirrors (tags parent-0.9.0 and release-3.8.0-1), compiled
# with javac against Debian's jars (zookeeper.jar, slf4j-api, servlet-api, jetty9). No Maven,
# no network. Nothing of this enters FerroKeeper; it only runs the reference server.
#
#   compat-tests/admin/build-java-prometheus.sh [OUTDIR]   (default: compat-tests/.work/java-prometheus)
#
# Writes OUTDIR/prometheus-client-0.9.0.jar and OUTDIR/zookeeper-prometheus-metrics-3.8.0.jar,
# and prints the classpath to add. Environment: CLIENT_JAVA_GIT, ZOOKEEPER_GIT (bare repos).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/../.work/java-prometheus}
CLIENT_GIT=${CLIENT_JAVA_GIT:-/work/.mirror/prometheus+client_java/repo}
ZK_GIT=${ZOOKEEPER_GIT:-/work/.mirror/apache+zookeeper/repo}
CLIENT_TAG=parent-0.9.0
ZK_TAG=release-3.8.0-1
J=/usr/share/java

die() { echo "build-java-prometheus.sh: $*" >&2; exit 1; }
for tool in git javac jar; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install default-jdk-headless git)"
done
for jar in zookeeper.jar slf4j-api.jar servlet-api.jar jetty9-server.jar jetty9-servlet.jar \
           jetty9-util.jar jetty9-http.jar jetty9-io.jar jetty9-security.jar; do
  [ -f "$J/$jar" ] || die "$J/$jar is missing (apt-get install zookeeper libservlet-api-java libjetty9-java)"
done
git -C "$CLIENT_GIT" rev-parse -q --verify "$CLIENT_TAG^{commit}" >/dev/null 2>&1 \
  || die "no tag $CLIENT_TAG in $CLIENT_GIT (a clone of github.com/prometheus/client_java; set CLIENT_JAVA_GIT)"
git -C "$ZK_GIT" rev-parse -q --verify "$ZK_TAG^{commit}" >/dev/null 2>&1 \
  || die "no tag $ZK_TAG in $ZK_GIT (a clone of github.com/apache/zookeeper; set ZOOKEEPER_GIT)"

mkdir -p "$OUT"
W=$(mktemp -d "$OUT/build.XXXXXX")
trap 'rm -rf "$W"' EXIT

DEPS="$J/zookeeper.jar:$J/slf4j-api.jar:$J/servlet-api.jar:$J/jetty9-server.jar:$J/jetty9-servlet.jar"
DEPS+=":$J/jetty9-util.jar:$J/jetty9-http.jar:$J/jetty9-io.jar:$J/jetty9-security.jar"

# 1. The Prometheus client: main sources of the four modules, in one jar.
mkdir -p "$W/client-src" "$W/client-classes"
git -C "$CLIENT_GIT" archive "$CLIENT_TAG" \
  simpleclient/src/main/java simpleclient_common/src/main/java \
  simpleclient_servlet/src/main/java simpleclient_hotspot/src/main/java | tar -x -C "$W/client-src"
find "$W/client-src" -name '*.java' >"$W/client-files"
javac -nowarn -encoding UTF-8 --release 8 -cp "$DEPS" -d "$W/client-classes" @"$W/client-files" \
  2>"$W/client-javac.log" || { cat "$W/client-javac.log" >&2; die "compiling the Prometheus client failed"; }
jar --create --file "$OUT/prometheus-client-0.9.0.jar" -C "$W/client-classes" .

# 2. ZooKeeper's provider, against the client and Debian's zookeeper.jar.
mkdir -p "$W/zk-src" "$W/zk-classes"
git -C "$ZK_GIT" archive "$ZK_TAG" \
  zookeeper-metrics-providers/zookeeper-prometheus-metrics/src/main/java | tar -x -C "$W/zk-src"
find "$W/zk-src" -name '*.java' >"$W/zk-files"
javac -nowarn -encoding UTF-8 --release 8 -cp "$DEPS:$OUT/prometheus-client-0.9.0.jar" \
  -d "$W/zk-classes" @"$W/zk-files" 2>"$W/zk-javac.log" \
  || { cat "$W/zk-javac.log" >&2; die "compiling PrometheusMetricsProvider failed"; }
jar --create --file "$OUT/zookeeper-prometheus-metrics-3.8.0.jar" -C "$W/zk-classes" .

echo "$OUT/prometheus-client-0.9.0.jar:$OUT/zookeeper-prometheus-metrics-3.8.0.jar"
