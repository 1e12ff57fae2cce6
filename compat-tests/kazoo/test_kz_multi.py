"""multi (transactions): all-or-nothing, with per-op results."""
from kazoo.exceptions import (BadVersionError, NodeExistsError, NoNodeError,
                              RolledBackError, RuntimeInconsistency,
                              NotEmptyError)
from kazoo.protocol.states import ZnodeStat


def test_multi_success_results(zk, base):
    zk.create(base + "/v", b"0")
    t = zk.transaction()
    t.create(base + "/new", b"n")
    t.set_data(base + "/v", b"1")
    t.check(base + "/v", 1)
    t.delete(base + "/new")
    res = t.commit()
    assert len(res) == 4
    assert res[0] == base + "/new"
    assert isinstance(res[1], ZnodeStat) and res[1].version == 1
    assert res[2] is True and res[3] is True
    assert zk.get(base + "/v")[0] == b"1"
    assert zk.exists(base + "/new") is None


def test_multi_ops_share_one_zxid(zk, base):
    t = zk.transaction()
    t.create(base + "/a", b"")
    t.create(base + "/b", b"")
    t.commit()
    assert zk.exists(base + "/a").czxid == zk.exists(base + "/b").czxid


def test_multi_failure_rolls_back_everything(zk, base):
    zk.create(base + "/v", b"0")
    t = zk.transaction()
    t.create(base + "/new", b"n")        # would succeed
    t.check(base + "/v", 5)              # fails: version is 0
    t.set_data(base + "/v", b"changed")  # never tried
    res = t.commit()
    # ops before the failing one report "rolled back" (code 0 in the multi error header),
    # the failing one its own error, the ones after it RuntimeInconsistency
    assert isinstance(res[0], RolledBackError)
    assert isinstance(res[1], BadVersionError)
    assert isinstance(res[2], RuntimeInconsistency)
    assert zk.exists(base + "/new") is None
    data, st = zk.get(base + "/v")
    assert data == b"0" and st.version == 0


def test_multi_first_op_fails(zk, base):
    zk.create(base + "/exists", b"")
    t = zk.transaction()
    t.create(base + "/exists", b"")
    t.create(base + "/other", b"")
    res = t.commit()
    assert isinstance(res[0], NodeExistsError)
    assert isinstance(res[1], RuntimeInconsistency)
    assert zk.exists(base + "/other") is None


def test_multi_later_ops_see_earlier_ones(zk, base):
    t = zk.transaction()
    t.create(base + "/p", b"")
    t.create(base + "/p/c", b"")
    t.check(base + "/p/c", 0)
    res = t.commit()
    assert res == [base + "/p", base + "/p/c", True]


def test_multi_check_missing_and_delete_not_empty(zk, base):
    zk.create(base + "/full", b"")
    zk.create(base + "/full/kid", b"")
    t = zk.transaction()
    t.check(base + "/missing", 0)
    res = t.commit()
    assert isinstance(res[0], NoNodeError)
    t = zk.transaction()
    t.delete(base + "/full")
    res = t.commit()
    assert isinstance(res[0], NotEmptyError)


def test_multi_sequential_create(zk, base):
    t = zk.transaction()
    t.create(base + "/s-", b"", sequence=True)
    t.create(base + "/s-", b"", sequence=True)
    res = t.commit()
    assert res == [base + "/s-0000000000", base + "/s-0000000001"]
