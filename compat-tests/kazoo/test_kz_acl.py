"""ACLs: world, digest (with addauth), ip, auth scheme; NoAuth and InvalidACL errors."""
import pytest
from kazoo.exceptions import (AuthFailedError, BadVersionError, InvalidACLError,
                              NoAuthError)
from kazoo.protocol.states import KazooState
from kazoo.security import (ACL, Id, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, Permissions,
                            make_acl, make_digest_acl, make_digest_acl_credential)


def test_default_acl_is_world_anyone_all(zk, base):
    p = zk.create(base + "/n", b"")
    acls, st = zk.get_acls(p)
    assert acls == [ACL(Permissions.ALL, Id("world", "anyone"))]
    assert st.aversion == 0


def test_digest_acl_requires_auth(zk, zk2, base):
    acl = make_digest_acl("alice", "secret", all=True)
    p = zk.create(base + "/secret", b"s3cr3t", acl=[acl])
    with pytest.raises(NoAuthError):
        zk2.get(p)
    with pytest.raises(NoAuthError):  # since 3.6 getAcl needs READ or ADMIN too
        zk2.get_acls(p)
    with pytest.raises(NoAuthError):
        zk2.set(p, b"x")
    zk2.add_auth("digest", "bob:wrong")  # another identity does not help
    with pytest.raises(NoAuthError):
        zk2.get(p)
    zk2.add_auth("digest", "alice:secret")
    assert zk2.get(p)[0] == b"s3cr3t"
    zk2.set(p, b"changed")
    # the server stores exactly the id the client sent: user:base64(sha1(user:password))
    acls, _ = zk2.get_acls(p)
    assert acls == [ACL(Permissions.ALL, Id("digest", make_digest_acl_credential("alice", "secret")))]
    # exists is allowed without READ permission
    assert zk.exists(p).version == 1


def test_auth_scheme_acl_uses_session_identities(zk, base):
    with pytest.raises(InvalidACLError):  # no authenticated identity yet
        zk.create(base + "/a", b"", acl=[make_acl("auth", "", all=True)])
    zk.add_auth("digest", "carol:pw")
    p = zk.create(base + "/a", b"", acl=[make_acl("auth", "", all=True)])
    acls, _ = zk.get_acls(p)
    assert acls == [ACL(Permissions.ALL, Id("digest", make_digest_acl_credential("carol", "pw")))]


@pytest.mark.parametrize("acl", [
    make_acl("ip", "999.1.1.1", all=True),
    make_acl("nosuchscheme", "x", all=True),
    make_acl("digest", "no-colon-here", all=True),
])
def test_invalid_acl(zk, base, acl):
    with pytest.raises(InvalidACLError):
        zk.create(base + "/bad", b"", acl=[acl])
    assert zk.exists(base + "/bad") is None


def test_ip_acl(zk, base):
    # our own address may read; a foreign address gets nothing
    mine = zk.create(base + "/mine", b"m", acl=[make_acl("ip", "127.0.0.1", all=True)])
    assert zk.get(mine)[0] == b"m"
    net = zk.create(base + "/net", b"n", acl=[make_acl("ip", "127.0.0.0/8", all=True)])
    assert zk.get(net)[0] == b"n"
    other = zk.create(base + "/other", b"o", acl=[make_acl("ip", "192.0.2.1", all=True)])
    with pytest.raises(NoAuthError):
        zk.get(other)
    zk.delete(other)  # deleting needs DELETE on the parent only


def test_read_only_acl(zk, base):
    p = zk.create(base + "/ro", b"r", acl=READ_ACL_UNSAFE)
    assert zk.get(p)[0] == b"r"
    with pytest.raises(NoAuthError):
        zk.set(p, b"w")
    with pytest.raises(NoAuthError):
        zk.create(p + "/kid", b"")
    with pytest.raises(NoAuthError):
        zk.set_acls(p, OPEN_ACL_UNSAFE)


def test_delete_needs_delete_perm_on_parent(zk, base):
    parent = zk.create(base + "/p", b"")
    zk.create(parent + "/kid", b"", acl=READ_ACL_UNSAFE)  # the child's own ACL is irrelevant
    zk.set_acls(parent, [make_acl("world", "anyone", read=True, create=True, admin=True)])
    with pytest.raises(NoAuthError):
        zk.delete(parent + "/kid")
    zk.set_acls(parent, OPEN_ACL_UNSAFE)
    zk.delete(parent + "/kid")


def test_set_acl_versions(zk, base):
    p = zk.create(base + "/n", b"")
    st = zk.set_acls(p, READ_ACL_UNSAFE + [make_digest_acl("admin", "pw", all=True)])
    assert st.aversion == 1
    assert st.version == 0
    with pytest.raises(NoAuthError):  # ADMIN permission is checked before the version
        zk.set_acls(p, OPEN_ACL_UNSAFE, version=0)
    zk.add_auth("digest", "admin:pw")
    with pytest.raises(BadVersionError):
        zk.set_acls(p, OPEN_ACL_UNSAFE, version=0)
    st = zk.set_acls(p, OPEN_ACL_UNSAFE, version=1)
    assert st.aversion == 2
    acls, st = zk.get_acls(p)
    assert acls == OPEN_ACL_UNSAFE and st.aversion == 2


def test_unknown_auth_scheme_fails_session(make_client):
    c = make_client()
    states = []
    c.add_listener(states.append)
    with pytest.raises(AuthFailedError):
        c.add_auth("nosuchscheme", "whatever")
    # after an auth failure the server drops the session: no further requests succeed
    with pytest.raises(AuthFailedError):
        c.get("/")
    assert KazooState.LOST in states
