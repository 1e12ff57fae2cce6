"""Shared by capture.py and test_fourletter.py: sending four-letter words, the little
ZooKeeper state both servers are given before the words are sent, and the normaliser that
turns a reply into line templates (values masked, structure kept)."""
import re
import socket
import struct
import time
from collections import namedtuple

# Every word the captures cover, in the order they are sent (the order matters: crst, srst
# and stmk change what later words report, though not their structure).
WORDS = ["ruok", "srvr", "stat", "conf", "cons", "crst", "srst", "envi", "mntr", "wchs",
         "wchc", "wchp", "dump", "isro", "dirs", "gtmk", "stmk", "hash"]

# stmk is followed by the new trace mask, a big-endian long, in the same packet.
STMK_MASK = 0x132  # 306, ZooTrace's default mask: the server's behaviour is unchanged


def send_word(connect, word, extra=b"", timeout=10.0):
    """Sends `word` (+ `extra`) on a fresh connection; returns everything the server sends
    before it closes the connection, decoded as UTF-8."""
    host, _, port = connect.split(",")[0].strip().rpartition(":")
    with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)),
                                  timeout=timeout) as s:
        s.sendall(word.encode("ascii") + extra)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks).decode("utf-8", errors="replace")


def word_args(word):
    """Extra bytes a word carries."""
    return struct.pack(">q", STMK_MASK) if word == "stmk" else b""


# --- the state -------------------------------------------------------------------------

class AddWatch(namedtuple("AddWatch", "path mode")):
    """addWatch (opcode 106), which kazoo 2.11 lacks; sent over kazoo's connection."""
    type = 106

    def serialize(self):
        from kazoo.protocol.serialization import int_struct, write_string
        return bytearray(write_string(self.path) + int_struct.pack(self.mode))

    @classmethod
    def deserialize(cls, buffer, offset):
        return True


def _add_watch(zk, path, mode):
    res = zk.handler.async_result()
    zk._call(AddWatch(path, mode), res)
    return res.get(timeout=10.0)


# The server's zxid is driven past this, so that `hash` (which lists the tree digest of
# every 128th zxid) has something to show.
MIN_ZXID = 130


def quota_path(root):
    return "/zookeeper/quota" + root


def make_state(connect, root):
    """Two kazoo sessions, a few znodes under `root` (one ephemeral per session, a
    sequential ephemeral), a count quota on `root` (made as zkCli's setquota makes it),
    zxid driven past MIN_ZXID, and watches of every kind: data (get), exists (on an
    existing and a missing node), child (get_children), persistent and persistent
    recursive (addWatch). Returns the two clients; stop_state() closes them."""
    from kazoo.client import KazooClient

    def noop(_event):
        pass

    a = KazooClient(hosts=connect, timeout=10.0)
    a.start(timeout=10.0)
    b = KazooClient(hosts=connect, timeout=10.0)
    b.start(timeout=10.0)
    a.create(root, b"")
    a.create(root + "/data", b"hello")
    a.create(root + "/other", b"x" * 100)
    a.create(root + "/eph-a", b"", ephemeral=True)
    b.create(root + "/eph-b", b"", ephemeral=True)
    b.create(root + "/seq-", b"", ephemeral=True, sequence=True)
    a.set(root + "/other", b"y" * 10)
    a.create(quota_path(root), b"")
    a.create(quota_path(root) + "/zookeeper_limits", b"count=100,bytes=-1")
    a.create(quota_path(root) + "/zookeeper_stats", b"count=0,bytes=0")
    a.create(root + "/bump", b"")
    # hash lists the digests of zxids whose counter (the low 32 bits) is a multiple of 128;
    # on an ensemble member the epoch alone makes the zxid large, so the counter is compared.
    for _ in range(MIN_ZXID + 10):  # bounded; each set is one zxid
        if a.set(root + "/bump", b"z").mzxid & 0xFFFFFFFF >= MIN_ZXID:
            break
    # watches of session a
    a.get(root + "/data", watch=noop)
    a.exists(root + "/missing", watch=noop)
    a.get_children(root, watch=noop)
    _add_watch(a, root + "/other", 0)           # persistent
    # watches of session b
    b.get(root + "/data", watch=noop)
    b.exists(root + "/other", watch=noop)
    b.get_children(root + "/data", watch=noop)
    _add_watch(b, root, 1)                      # persistent recursive
    a.sync(root)
    b.get_acls(root)
    return a, b


def stop_state(clients, root):
    a, b = clients
    try:
        b.stop()
        b.close()
    finally:
        try:
            a.delete(root, recursive=True)
            a.delete(quota_path(root), recursive=True)
        finally:
            a.stop()
            a.close()


def capture_all(connect, root):
    """{word: reply} for every word in WORDS, sent while the state exists."""
    clients = make_state(connect, root)
    try:
        return {w: send_word(connect, w, word_args(w)) for w in WORDS}
    finally:
        stop_state(clients, root)


# --- the normaliser --------------------------------------------------------------------

# Order matters: the most specific patterns first. Each replaces a value with a placeholder.
_MASKS = [
    # "3.8.0-5a02a05eddb59aee6ac762f7ea82e92a68eb9c0f, built on 2022-02-25 08:49 UTC"
    (re.compile(r"\d+\.\d+\.\d+\S*, built on \d{4}-\d\d-\d\d \d\d:\d\d UTC"), "<VERSION>"),
    # Time.elapsedTimeToDate: "Thu Jan 01 00:00:00 UTC 2024"
    (re.compile(r"\b[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d [A-Z]{2,5} \d{4}\b"),
     "<DATE>"),
    # remote socket addresses: /127.0.0.1:43210, /[0:0:0:0:0:0:0:1]:43210
    (re.compile(r"/\[?[0-9a-fA-F:.]+\]?:\d+"), "<ADDR>"),
    # absolute paths (directories, znode paths) at the start of a line or a value
    (re.compile(r"(?<![^\s=])/[^\s()\[\],]*"), "<PATH>"),
    # cons: the short name of the last operation
    (re.compile(r"\blop=\w+"), "lop=<OP>"),
    # hex numbers
    (re.compile(r"0x[0-9a-fA-F]+"), "0x<HEX>"),
    # floating point and integer numbers (with an optional sign, and an MB unit kept)
    (re.compile(r"-?\d+\.\d+(?:E-?\d+)?"), "<NUM>"),
    (re.compile(r"-?\b\d+\b"), "<NUM>"),
]

# Values that are free text (host names, versions, user names, OS names ...) in
# "key=value" or "key\tvalue" lines: the key stays, the value is masked.
_FREE_TEXT_KEYS = {
    "envi": re.compile(r"^([\w.]+)=(.*)$"),
}


def mask_line(line, word=None):
    if word in _FREE_TEXT_KEYS:
        m = _FREE_TEXT_KEYS[word].match(line)
        if m and m.group(1) != "zookeeper.version":
            return m.group(1) + "=<VALUE>"
    for pattern, placeholder in _MASKS:
        line = pattern.sub(placeholder, line)
    return line


def squeeze(lines, max_block=3):
    """Collapses consecutive repeats of any block of 1..max_block lines into one copy, so
    that "one line per connection / session / path" lists compare equal whatever their
    length. Smallest blocks first, until nothing changes. A block holding an empty line is
    never collapsed, so blank lines (and trailing newlines) are compared exactly."""
    lines = list(lines)
    changed = True
    while changed:
        changed = False
        for n in range(1, max_block + 1):
            out = []
            i = 0
            while i < len(lines):
                block = lines[i:i + n]
                j = i + n
                if len(block) == n and "" not in block and lines[j:j + n] == block:
                    while lines[j:j + n] == block:
                        j += n
                    out.extend(block)
                    changed = True
                    i = j
                else:
                    # No repeat starts here: move on by one line, so a block is found
                    # wherever it starts (stepping by n would find it only at multiples of
                    # n, and one extra line before it would change the result).
                    out.append(lines[i])
                    i += 1
            lines = out
    return lines


def _sort_runs(lines, starts):
    """Sorts each run of consecutive lines starting with `starts`: connection lists come in
    hash order in ZooKeeper, so only which templates occur is structure, not their order."""
    out, run = [], []
    for line in lines + [None]:
        if line is not None and line.startswith(starts):
            run.append(line)
            continue
        out.extend(sorted(run))
        run = []
        if line is not None:
            out.append(line)
    return out


_NAMESPACE_KEYS = [
    # summary sets: zk_avg_<namespace>_read_per_namespace, ...
    (re.compile(r"^zk_(avg|min|max|cnt|sum)_.+_((?:read|write)_per_namespace)\t"),
     r"zk_\1_<NS>_\2\t"),
    # gauge sets: zk_<namespace>_quota_count_limit_per_namespace, ...
    (re.compile(r"^zk_.+_(quota_(?:count|bytes)_(?:limit|usage)_per_namespace)\t"),
     r"zk_<NS>_\1\t"),
    # counter set: zk_<namespace>_quota_exceeded_error_per_namespace
    (re.compile(r"^zk_.+_(quota_exceeded_error_per_namespace)\t"), r"zk_<NS>_\1\t"),
]


# FerroKeeper's own mntr keys (Java has none of them) are named zk_ferrokeeper_* and come
# after Java's; the comparisons take them off with split_own_mntr and check them apart.
OWN_MNTR_PREFIX = "zk_ferrokeeper_"
OWN_MNTR_KEYS = ["zk_ferrokeeper_outbox_overflows"]


def split_own_mntr(text):
    """(mntr text without FerroKeeper's own keys, [(own key, value)]). Own keys must all
    come after Java's."""
    lines = text.split("\n")
    own_at = [i for i, l in enumerate(lines) if l.startswith(OWN_MNTR_PREFIX)]
    own = [tuple(lines[i].split("\t", 1)) for i in own_at]
    if own_at:
        after = [l for l in lines[own_at[0]:] if l and not l.startswith(OWN_MNTR_PREFIX)]
        assert not after, f"Java keys after FerroKeeper's own: {after}"
    return "\n".join(l for l in lines if not l.startswith(OWN_MNTR_PREFIX)), own


def mntr_template(text):
    """mntr's structure: every line masked, keys that name a namespace (znodes at the
    top of the tree, which differ from run to run) made generic and kept once, where
    they first appear."""
    out, seen = [], set()
    for line in text.split("\n"):
        for pattern, repl in _NAMESPACE_KEYS:
            line = pattern.sub(repl, line)
        line = mask_line(line, "mntr")
        if "<NS>" in line:
            if line in seen:
                continue
            seen.add(line)
        out.append(line)
    return out


def template(word, text):
    """The structure of a reply: masked lines, repeats squeezed. The text is split on "\\n"
    keeping what follows the last newline, so a missing or extra trailing newline shows."""
    if word == "mntr":
        return mntr_template(text)
    if word == "hash":  # "<zxid in hex>: <digest>"
        text = re.sub(r"(?m)^[0-9a-f]+: -?\d+$", "<HEX>: <NUM>", text)
    lines = [mask_line(l, word) for l in text.split("\n")]
    if word == "dump":
        lines = _drop_empty_expiry_sets(lines)
        # A member lists every global session with its timeout; sessions other suites
        # left behind (until they expire) have their own timeouts.
        lines = [re.sub(r"^(0x<HEX>\t)\d+ms$", r"\1<NUM>ms", l) for l in lines]
    lines = _sort_runs(lines, " <ADDR>")
    return squeeze(lines)


def _drop_empty_expiry_sets(lines):
    """ZooKeeper's ExpiryQueue keeps a set emptied by a touch until its time passes, so
    `dump` can list "0 expire at <date>:" with nothing under it; how many such sets exist
    is a matter of timing, not of format. FerroKeeper drops empty sets at once."""
    header = "<NUM> expire at <DATE>:"
    return [l for i, l in enumerate(lines)
            if not (l == header and not (i + 1 < len(lines) and lines[i + 1].startswith("\t")))]


def mntr_keys(text):
    """mntr's keys in order, namespace keys made generic (see mntr_template)."""
    return [l.split("\t", 1)[0] for l in mntr_template(text) if l]
