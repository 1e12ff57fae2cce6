"""Self-tests of the differential harness (pytest).

The offline tests need nothing but Python. The tests marked `java` spawn Debian's Java
ZooKeeper 3.8 (apt-get install zookeeper; a JDK) and are skipped when it is not installed.
"""

import copy
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import difftest  # noqa: E402
import zkjava  # noqa: E402
import zkwire as W  # noqa: E402

JAVA_OK, JAVA_WHY = zkjava.java_available()
needs_java = pytest.mark.skipif(not JAVA_OK, reason=JAVA_WHY)


# --- wire encoding -----------------------------------------------------------------------------

def test_jute_primitives():
    b = W.Writer().int(-1).long(1 << 40).bool(True).buffer(None).buffer(b"ab").ustring("é").bytes()
    assert b == (b"\xff\xff\xff\xff" + b"\x00\x00\x01\x00\x00\x00\x00\x00" + b"\x01"
                 + b"\xff\xff\xff\xff" + b"\x00\x00\x00\x02ab" + b"\x00\x00\x00\x02\xc3\xa9")
    r = W.Reader(b)
    assert (r.int(), r.long(), r.bool(), r.buffer(), r.buffer(), r.ustring()) == (-1, 1 << 40, True, None, b"ab", "é")
    assert r.remaining() == 0


def test_multi_request_layout():
    body = W.req_multi([(W.Op.DELETE, W.req_delete("/x", 3))])
    r = W.Reader(body)
    assert (r.int(), r.bool(), r.int()) == (W.Op.DELETE, False, -1)
    assert (r.ustring(), r.int()) == ("/x", 3)
    assert (r.int(), r.bool(), r.int()) == (-1, True, -1)
    assert r.remaining() == 0


def test_multi_response_decoding():
    w = W.Writer()
    w.int(W.Op.CREATE).bool(False).int(0).ustring("/a")
    w.int(W.Op.ERROR).bool(False).int(-101).int(-101)
    w.int(-1).bool(True).int(-1)
    body = W.decode_body(W.Op.MULTI, W.Reader(w.bytes()))
    assert body == {"results": [{"type": 1, "path": "/a"}, {"type": -1, "err": -101, "header_err": -101}]}


def test_digest_id():
    # the well-known example from the ZooKeeper documentation's digest scheme
    assert W.digest_id("super", "test") == "super:D/InIHSb7yEEbrWz8b9l71RjZJU="


# --- generation and normalisation --------------------------------------------------------------

def test_program_is_a_function_of_the_seed():
    p1 = difftest.generate_program(7, 150)
    assert p1 == difftest.generate_program(7, 150)
    assert p1 != difftest.generate_program(8, 150)
    live = set()
    for op in p1:
        if op["k"] == "open":
            assert op["s"] not in live
            live.add(op["s"])
        else:
            assert op["s"] in live, op
            if op["k"] == "close":
                live.discard(op["s"])
    assert not live  # every session is closed at the end
    kinds = {op["k"] for seed in range(1, 6) for op in difftest.generate_program(seed, 200)}
    assert {k for k, _ in difftest.OP_WEIGHTS} <= kinds


def test_normalizer():
    n = difftest.Normalizer("/diff-1-x")
    n.add_session(0x1234, "S0")
    st = {"czxid": 50, "mzxid": 52, "ctime": 9, "mtime": 10, "version": 1, "cversion": 0, "aversion": 0,
          "ephemeralOwner": 0x1234, "dataLength": 0, "numChildren": 0, "pzxid": 50}
    rep = {"xid": 3, "zxid": 52, "err": 0, "body": {"path": "/diff-1-x/a", "stat": st}}
    out = n.reply(rep)
    assert out["zxid"] == "z1"
    assert out["body"]["path"] == "R/a"
    assert out["body"]["stat"] == {"czxid": "z2", "mzxid": "z1", "version": 1, "cversion": 0, "aversion": 0,
                                   "ephemeralOwner": "S0", "dataLength": 0, "numChildren": 0, "pzxid": "z2"}
    kids = n.reply({"xid": 4, "zxid": 52, "err": 0, "body": {"children": ["b", "a", "c"]}})
    assert kids["body"]["children"] == ["a", "b", "c"]
    assert n.reply({"xid": 5, "zxid": 60, "err": -101, "body": None}) == \
        {"xid": 5, "zxid": "z3", "err": -101, "errname": "NONODE"}
    d = difftest.Normalizer("/r", zxid_mode="delta")
    d.base = 100
    assert d.zxid(103) == "z+3" and d.zxid(0) == 0 and d.zxid(-1) == -1


def test_comparator_catches_altered_error_code():
    assert difftest.self_test(verbose=False)


def test_comparator_reports_first_difference():
    recs = [{"i": 0, "out": [{"reply": {"err": 0, "zxid": "z1"}}]},
            {"i": 1, "out": [{"event": {"type": "NodeCreated", "path": "R/a"}}]},
            {"i": 2, "out": [{"reply": {"err": -101}}]}]
    other = copy.deepcopy(recs)
    other[1]["out"][0]["event"]["type"] = "NodeDeleted"
    other[2]["out"][0]["reply"]["err"] = -110
    m = difftest.compare(recs, other)
    assert m[0] == 1 and m[3] == [(".out[0].event.type", "NodeCreated", "NodeDeleted")]
    assert difftest.compare(recs, recs[:2])[0] == 2  # a missing record is a difference


def test_seed_ranges():
    assert difftest.parse_seeds("1-3,7,10-11") == [1, 2, 3, 7, 10, 11]


# --- against real Java ZooKeeper ---------------------------------------------------------------

@needs_java
def test_java_vs_java_agree(capsys):
    rc = difftest.main(["--a", "java", "--b", "java", "--seeds", "1-3", "--ops", "120", "-q"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert out.strip().splitlines()[-1] == "3 passed, 0 failed"


@needs_java
def test_recorded_transcript_with_one_altered_error_code_is_caught(tmp_path):
    with zkjava.JavaZooKeeper() as zk:
        records, problems = difftest.run_one(zk.address, 4, 150, 3, "/selftest-4")
    assert problems == []
    path = tmp_path / "t.jsonl"
    difftest.write_transcript(str(path), {"seed": 4}, records)
    again = difftest.read_transcript(str(path))[4]
    assert difftest.compare(records, again) is None
    assert difftest.self_test(again, verbose=False)
    # and by hand: flip the first error code found
    altered = json.loads(json.dumps(again))
    for idx, r in enumerate(altered):
        reps = [it["reply"] for it in r.get("out", []) if "reply" in it and it["reply"]["err"] != 0]
        if reps:
            reps[0]["err"] = 0
            break
    m = difftest.compare(again, altered)
    assert m is not None and m[0] == idx
