"""Four-letter words: the reply to each has the structure of Debian's Java ZooKeeper
3.8.0's reply (java-3.8.0/, made by capture.sh): the same lines in the same order with
the same keys, separators and newlines once values (numbers, addresses, session ids,
paths, dates, the version) are masked, and mntr has the same keys in the same order.

The server at ZK_CONNECT needs 4lw.commands.whitelist=*. The words are sent while a
little state exists (fourlw.make_state: two sessions, ephemerals, a quota, watches of
every kind), in the order the reference was captured in."""
import difflib
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fourlw  # noqa: E402

# The reference: a standalone Java 3.8.0 (java-3.8.0/), or, for a server that is an ensemble
# member, a Java 3.8.0 follower's captures (java-3.8.0-follower/, capture_follower.py), which
# ensemble/clients.py names here.
JAVA = os.environ.get("FOURLW_CAPTURES") or os.path.join(HERE, "java-3.8.0")


def java_reply(name):
    with open(os.path.join(JAVA, name + ".txt"), encoding="utf-8", newline="") as f:
        return f.read()


@pytest.fixture(scope="module")
def captured(zk_connect, run_id):
    return fourlw.capture_all(zk_connect, f"/fourlw-{run_id}")


@pytest.fixture(scope="module")
def replies(captured):
    """The replies as compared with Java's: mntr without FerroKeeper's own keys."""
    java_part, _ = fourlw.split_own_mntr(captured["mntr"])
    return {**captured, "mntr": java_part}


def explain(want, got):
    return "\n".join(difflib.unified_diff(want, got, "java-3.8.0", "server", lineterm="", n=2))


@pytest.mark.parametrize("word", fourlw.WORDS)
def test_same_structure_as_java(replies, word):
    want = fourlw.template(word, java_reply(word))
    got = fourlw.template(word, replies[word])
    assert got == want, f"{word}: structure differs\n" + explain(want, got) + \
        f"\n--- raw reply ---\n{replies[word]!r}"


def test_mntr_keys_as_java(replies):
    want = fourlw.mntr_keys(java_reply("mntr"))
    got = fourlw.mntr_keys(replies["mntr"])
    assert got == want, explain(want, got)


def test_own_mntr_keys_after_java_s(captured):
    """FerroKeeper's own keys (zk_ferrokeeper_*) follow Java's, each once, with a count."""
    _, own = fourlw.split_own_mntr(captured["mntr"])
    assert [k for k, _ in own] == fourlw.OWN_MNTR_KEYS
    for k, v in own:
        assert v.isdigit(), (k, v)


def test_answers_without_values(replies):
    # ruok and isro carry no value at all: byte for byte, no newline
    assert replies["ruok"] == java_reply("ruok") == "imok"
    assert replies["isro"] == java_reply("isro") == "rw"
    # stmk echoes the mask it was sent; gtmk then reports it
    assert replies["stmk"] == str(fourlw.STMK_MASK)


def test_normaliser_keeps_structure():
    """The masks do not hide what the comparison is about."""
    t = fourlw.template
    assert t("wchs", "1 connections watching 1 paths\nTotal watches:1\n") != \
        t("wchs", "1 connections watching 1 paths\nTotal watches:1\n\n")
    assert t("gtmk", "306") != t("gtmk", "306\n")
    assert t("conf", "tickTime=2000\n") != t("conf", "tickTime 2000\n")
    assert t("cons", " /127.0.0.1:1[1](queued=0,recved=1,sent=1)\n\n") == \
        t("cons", " /127.0.0.1:1[1](queued=0,recved=1,sent=1)\n"
                  " /127.0.0.1:2[1](queued=3,recved=9,sent=9)\n\n")
    assert t("mntr", "zk_avg_a_read_per_namespace\t1.0\n") == \
        t("mntr", "zk_avg_a_read_per_namespace\t1.0\nzk_avg_b_read_per_namespace\t2.0\n")
    assert fourlw.mntr_keys("zk_a\t1\nzk_b\t2\n") != fourlw.mntr_keys("zk_b\t2\nzk_a\t1\n")
