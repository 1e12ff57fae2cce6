"""Sequential znodes: a 10-digit, zero-padded suffix taken from the parent's cversion."""
import re

from kazoo.exceptions import NoNodeError
import pytest

SEQ = re.compile(r"^(?P<prefix>.*?)(?P<n>\d{10})$")


def test_sequential_suffix_is_parent_cversion(zk, base):
    names = []
    for _ in range(3):
        cversion = zk.exists(base).cversion
        p = zk.create(base + "/s-", b"", sequence=True)
        m = SEQ.match(p)
        assert m, p
        assert m.group("prefix") == base + "/s-"
        assert int(m.group("n")) == cversion
        names.append(p)
    assert names == [base + "/s-0000000000", base + "/s-0000000001", base + "/s-0000000002"]


def test_sequence_counts_creates_not_deletes(zk, base):
    # The reported cversion counts creates AND deletes of children, but the sequence counter
    # only counts creates: Java ZK reports cversion = 2 * (creates) - numChildren.
    zk.create(base + "/plain", b"")
    zk.delete(base + "/plain")
    st = zk.exists(base)
    assert st.cversion == 2 and st.numChildren == 0
    p = zk.create(base + "/q-", b"", sequence=True)
    assert p == base + "/q-0000000001"
    p = zk.create(base + "/q-", b"", sequence=True)
    assert p == base + "/q-0000000002"
    zk.delete(base + "/q-0000000001")
    st = zk.exists(base)
    assert st.cversion == 5 and st.numChildren == 1
    expected = (st.cversion + st.numChildren) // 2
    p = zk.create(base + "/", b"", sequence=True)  # empty prefix: the name is only digits
    assert p == f"{base}/{expected:010d}" == base + "/0000000003"


def test_ephemeral_sequential(zk, base):
    p = zk.create(base + "/e-", b"x", ephemeral=True, sequence=True)
    assert SEQ.match(p) and p.startswith(base + "/e-")
    st = zk.exists(p)
    assert st.ephemeralOwner == zk.client_id[0]


def test_sequential_without_parent(zk, base):
    with pytest.raises(NoNodeError):
        zk.create(base + "/missing/s-", b"", sequence=True)
