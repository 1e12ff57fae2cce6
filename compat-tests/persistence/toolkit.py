"""Interop checks of on-disk files with ZooKeeper's own offline tools.

Upstream ships bin/zkTxnLogToolkit.sh and bin/zkSnapShotToolkit.sh; Debian's `zookeeper`
package does not, so we run the classes those scripts run, from the same jars:
    org.apache.zookeeper.server.persistence.TxnLogToolkit   <log file>     (zkTxnLogToolkit)
    org.apache.zookeeper.server.SnapshotFormatter           <snapshot>     (zkSnapShotToolkit)

Neither tool fails on everything that is wrong: TxnLogToolkit prints "CRC ERROR - ..." and
carries on with exit status 0, and SnapshotFormatter does not verify the snapshot's Adler-32
checksum. So besides "exit status 0, no exception" the checks here also:
  txn log   file header magic "ZKLG", version 2; "EOF reached after N txns." with N >= 1;
            no CRC ERROR; N txn lines; zxids strictly consecutive; the first zxid equals
            the zxid in the file name (log.<hex zxid>)
  snapshot  file header magic "ZKSN", version 2; Adler-32 of everything before the trailer
            equals the trailer's checksum and the trailer ends with the path "/";
            "ZNode Details (count=N)" is the nodes printed + 1 (root is kept as "" and "/"); "/" and /zookeeper are
            there; the printed "Last zxid" is >= the zxid in the file name

Public helpers (each raises ToolkitError with the tool's output on failure):
    newest(dirpath, "log"|"snapshot")      -> path or None
    check_txn_log(path)                    -> {"zxids": [...], "types": [...], ...}
    check_snapshot(path)                   -> {"paths": [...], "last_zxid": int, ...}
    check_newest(snap_dir, txn_dir)        -> both, on the newest files (two JVMs in parallel)
    newest_valid_snapshot(snap_dir)        -> the newest snapshot Java would load
    check_all_txn_logs(txn_dir)            -> TxnLogToolkit on every log, consecutive across files
    scan_txn_log(path), check_history(txn_dir)
                                           -> the same reading in pure Python (fast): record
                                              checksums, zxids consecutive within and across
                                              every log in the directory
"""

import os
import re
import struct
import subprocess
import sys
import threading
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from javazk import classpath as java_classpath, missing as java_missing_reason  # noqa: E402

TXNLOG_CLASS = "org.apache.zookeeper.server.persistence.TxnLogToolkit"
SNAPSHOT_CLASS = "org.apache.zookeeper.server.SnapshotFormatter"
TOOL_TIMEOUT_S = 60

_TXN_RE = re.compile(r"^(CRC ERROR - )?.* session 0x[0-9a-f]+ cxid 0x[0-9a-f]+ "
                     r"zxid 0x([0-9a-f]+) (\w+)")
_EOF_RE = re.compile(r"^EOF reached after (\d+) txns\.$", re.M)
_COUNT_RE = re.compile(r"^ZNode Details \(count=(\d+)\):$", re.M)
_LAST_RE = re.compile(r"^Last zxid: 0x([0-9a-f]+)$", re.M)


class ToolkitError(Exception):
    pass


def file_zxid(path):
    """The zxid in a log.<hex> / snapshot.<hex> file name."""
    return int(os.path.basename(path).split(".", 1)[1], 16)


def _files(dirpath, prefix):
    if not os.path.isdir(dirpath):
        return []
    out = []
    for name in os.listdir(dirpath):
        if name.startswith(prefix + "."):
            try:
                int(name.split(".", 1)[1], 16)
            except ValueError:
                continue
            out.append(os.path.join(dirpath, name))
    return sorted(out, key=file_zxid)


def txn_logs(txn_dir):
    return _files(txn_dir, "log")


def snapshots(snap_dir):
    return _files(snap_dir, "snapshot")


def newest(dirpath, prefix):
    files = _files(dirpath, prefix)
    return files[-1] if files else None


def run_tool(cls, *args):
    why = java_missing_reason()
    if why:
        raise ToolkitError("cannot run %s: %s" % (cls, why))
    cmd = ["java", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", java_classpath(),
           cls] + list(args)
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=TOOL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ToolkitError("%s %s: no result within %d s" % (cls, " ".join(args), TOOL_TIMEOUT_S))
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def _fail(what, path, out, err):
    raise ToolkitError("%s %s\n--- stdout (tail) ---\n%s\n--- stderr (tail) ---\n%s"
                       % (what, path, "\n".join(out.splitlines()[-15:]),
                          "\n".join(err.splitlines()[-15:])))


def check_txn_log(path, min_txns=1):
    with open(path, "rb") as f:
        head = f.read(16)
    if len(head) < 16 or head[:4] != b"ZKLG" or struct.unpack(">i", head[4:8])[0] != 2:
        raise ToolkitError("%s: not a version-2 txn log (header %s)" % (path, head.hex()))
    rc, out, err = run_tool(TXNLOG_CLASS, path)
    if rc != 0 or "Exception" in err or "Exception" in out:
        _fail("TxnLogToolkit exit status %d on" % rc, path, out, err)
    if not out.startswith("ZooKeeper Transactional Log File with dbid "):
        _fail("TxnLogToolkit printed no log header for", path, out, err)
    m = _EOF_RE.search(out)
    if not m:
        _fail("TxnLogToolkit did not reach a clean EOF in", path, out, err)
    n = int(m.group(1))
    zxids, types, crc = [], [], 0
    for line in out.splitlines():
        t = _TXN_RE.match(line)
        if not t:
            continue
        if t.group(1):
            crc += 1
            continue  # the tool prints the entry again after its CRC ERROR line
        zxids.append(int(t.group(2), 16))
        types.append(t.group(3))
    if crc:
        _fail("TxnLogToolkit found %d CRC errors in" % crc, path, out, err)
    if len(zxids) != n:
        _fail("TxnLogToolkit said %d txns but printed %d in" % (n, len(zxids)), path, out, err)
    if n < min_txns:
        _fail("fewer than %d txns in" % min_txns, path, out, err)
    for a, b in zip(zxids, zxids[1:]):
        if b != a + 1:
            _fail("zxids not consecutive (%#x then %#x) in" % (a, b), path, out, err)
    if zxids and zxids[0] != file_zxid(path):
        _fail("first zxid %#x differs from the file name in" % zxids[0], path, out, err)
    return {"path": path, "count": n, "zxids": zxids, "types": types}


def check_snapshot(path):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 16 + 13 or raw[:4] != b"ZKSN" or struct.unpack(">i", raw[4:8])[0] != 2:
        raise ToolkitError("%s: not a version-2 snapshot (header %s)" % (path, raw[:16].hex()))
    # trailer: long adler32 ("val"), then ustring "/" ("path")
    if raw[-5:] != b"\0\0\0\x01/":
        raise ToolkitError("%s: snapshot does not end with the \"/\" trailer" % path)
    (val,) = struct.unpack(">q", raw[-13:-5])
    if val != zlib.adler32(raw[:-13]):
        raise ToolkitError("%s: Adler-32 mismatch: trailer says %#x, content is %#x"
                           % (path, val, zlib.adler32(raw[:-13])))
    rc, out, err = run_tool(SNAPSHOT_CLASS, path)
    if rc != 0 or "Exception" in err or "Exception" in out:
        _fail("SnapshotFormatter exit status %d on" % rc, path, out, err)
    m = _COUNT_RE.search(out)
    last = _LAST_RE.search(out)
    if not m or not last:
        _fail("SnapshotFormatter printed no node count / last zxid for", path, out, err)
    # node entries: a "----" line followed by the node's path
    lines = out.splitlines()
    paths = [lines[i + 1] for i in range(len(lines) - 1)
             if lines[i] == "----" and lines[i + 1].startswith("/")]
    # Java's DataTree keeps the root under both "" and "/", so its count is one more than
    # the nodes reachable from "/" (which is what it prints); anything else means nodes
    # that are not reachable from the root.
    if int(m.group(1)) != len(paths) + 1:
        _fail("SnapshotFormatter count=%s but %d nodes reachable from / in"
              % (m.group(1), len(paths)), path, out, err)
    for p in ("/", "/zookeeper", "/zookeeper/quota"):
        if p not in paths:
            _fail("snapshot lacks %s:" % p, path, out, err)
    last_zxid = int(last.group(1), 16)
    if last_zxid < file_zxid(path):
        _fail("last zxid %#x below the file name's zxid in" % last_zxid, path, out, err)
    return {"path": path, "paths": paths, "last_zxid": last_zxid}


def _run_parallel(*calls):
    """Run the (fn, arg) calls in threads (each starts its own JVM); raise the first error."""
    results, errors = [None] * len(calls), [None] * len(calls)

    def one(i, fn, arg):
        try:
            results[i] = fn(arg)
        except BaseException as e:  # re-raised in the caller's thread
            errors[i] = e

    threads = [threading.Thread(target=one, args=(i, fn, arg)) for i, (fn, arg) in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TOOL_TIMEOUT_S + 10)
    for e in errors:
        if e is not None:
            raise e
    return results


def check_newest(snap_dir, txn_dir, snapshot=None):
    """Both tools on the newest snapshot (or the given one) and the newest txn log; both
    must exist. The two JVMs run in parallel."""
    snap, log = snapshot or newest(snap_dir, "snapshot"), newest(txn_dir, "log")
    if snap is None:
        raise ToolkitError("no snapshot.* in %s" % snap_dir)
    if log is None:
        raise ToolkitError("no log.* in %s" % txn_dir)
    s, l = _run_parallel((check_snapshot, snap), (check_txn_log, log))
    return {"snapshot": s, "log": l}


def newest_valid_snapshot(snap_dir):
    """The newest snapshot Java would load (SnapStream.isValidSnapshot: at least 10 bytes
    and ending with int 1, "/"); a server killed while writing a snapshot leaves a partial
    file, which Java skips. Returns (path or None, [skipped partial files])."""
    skipped = []
    for p in reversed(snapshots(snap_dir)):
        with open(p, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            if size >= 10:
                f.seek(size - 5)
                if f.read(5) == b"\0\0\0\x01/":
                    return p, skipped
        skipped.append(p)
    return None, skipped


def scan_txn_log(path):
    """Pure-Python read of a txn log, as Java's FileTxnIterator reads it: header
    (magic "ZKLG", int version 2, long dbid), then records
        long checksum, int length, byte[length] (TxnHeader + txn), byte 0x42 ("B")
    until a zero length (preallocated padding) or the end of the file (a torn last record
    counts as the end, as in Java). Every record's Adler-32 must match. Returns the
    [(zxid, type)] of the records. Fast enough for every log of a long run."""
    out = []
    with open(path, "rb") as f:
        head = f.read(16)
        if len(head) < 16 or head[:4] != b"ZKLG" or struct.unpack(">i", head[4:8])[0] != 2:
            raise ToolkitError("%s: not a version-2 txn log (header %s)" % (path, head.hex()))
        size = os.fstat(f.fileno()).st_size
        pos = 16
        for _ in range(size):  # bounded by the file size; ends at padding or EOF
            rec = f.read(12)
            if len(rec) < 12:
                break
            crc, n = struct.unpack(">qi", rec)
            if n <= 0 or pos + 12 + n + 1 > size:
                break
            body = f.read(n + 1)
            if len(body) < n + 1:
                break
            body, eor = body[:n], body[n]
            if zlib.adler32(body) != crc & 0xFFFFFFFF or crc >> 32:
                raise ToolkitError("%s: checksum mismatch in the record at offset %d" % (path, pos))
            if eor != 0x42:
                raise ToolkitError("%s: record at offset %d lacks the end-of-record byte"
                                   % (path, pos))
            if n < 32:
                raise ToolkitError("%s: record at offset %d too short for a TxnHeader" % (path, pos))
            _cid, _cxid, zxid, _time, typ = struct.unpack(">qiqqi", body[:32])
            out.append((zxid, typ))
            pos += 12 + n + 1
    return out


def check_history(txn_dir):
    """Every txn log in the directory (pure Python, see scan_txn_log): each record's
    checksum, each file's first zxid equal to its name, and the zxids consecutive within
    and across files (a standalone server's history: every zxid exactly once).
    Returns [(path, first zxid, last zxid, count)]."""
    logs = txn_logs(txn_dir)
    if not logs:
        raise ToolkitError("no log.* in %s" % txn_dir)
    summary, prev = [], None
    for p in logs:
        recs = scan_txn_log(p)
        if not recs:
            raise ToolkitError("%s holds no transaction" % p)
        zx = [z for z, _t in recs]
        if zx[0] != file_zxid(p):
            raise ToolkitError("%s: first zxid %#x differs from the file name" % (p, zx[0]))
        for a, b in zip(zx, zx[1:]):
            if b != a + 1:
                raise ToolkitError("%s: zxid %#x followed by %#x" % (p, a, b))
        if prev is not None and zx[0] != prev + 1:
            raise ToolkitError("txn logs not consecutive: %#x then %s starting at %#x"
                               % (prev, os.path.basename(p), zx[0]))
        prev = zx[-1]
        summary.append((p, zx[0], zx[-1], len(zx)))
    return summary


def check_all_txn_logs(txn_dir):
    """TxnLogToolkit on every log file (one JVM each: slow), and the zxids consecutive
    across files."""
    logs = txn_logs(txn_dir)
    if not logs:
        raise ToolkitError("no log.* in %s" % txn_dir)
    results = [check_txn_log(p) for p in logs]
    for a, b in zip(results, results[1:]):
        if b["zxids"][0] != a["zxids"][-1] + 1:
            raise ToolkitError("txn logs not consecutive: %s ends at %#x, %s starts at %#x"
                               % (a["path"], a["zxids"][-1], b["path"], b["zxids"][0]))
    return results


def _main(argv):
    """python3 toolkit.py DATADIR [DATALOGDIR]: check a server's newest files with ZooKeeper's
    tools and every txn log with the Python reader; print a summary, exit 1 on a problem."""
    if len(argv) not in (2, 3):
        print("usage: toolkit.py DATADIR [DATALOGDIR]")
        return 2
    snap_dir = os.path.join(argv[1], "version-2")
    txn_dir = os.path.join(argv[2] if len(argv) == 3 else argv[1], "version-2")
    try:
        snap, skipped = newest_valid_snapshot(snap_dir)
        res = check_newest(snap_dir, txn_dir, snapshot=snap)
        hist = check_history(txn_dir)
    except ToolkitError as e:
        print("FAILED: %s" % e)
        return 1
    print("snapshot %s: %d nodes, last zxid %#x (%d partial snapshots skipped)"
          % (os.path.basename(res["snapshot"]["path"]), len(res["snapshot"]["paths"]),
             res["snapshot"]["last_zxid"], len(skipped)))
    print("newest log %s: %d txns (TxnLogToolkit)" % (os.path.basename(res["log"]["path"]),
                                                       res["log"]["count"]))
    print("%d txn logs, zxids %#x..%#x consecutive" % (len(hist), hist[0][1], hist[-1][2]))
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(_main(sys.argv))
