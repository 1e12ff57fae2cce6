"""zkCli.sh getAcl/setAcl (world, digest, ip), addauth, whoami and permission errors."""
import base64
import hashlib

import zkcli_helper as cli
from zkcli_helper import DIGEST_PASS, DIGEST_USER, parse_stat


def digest_id(user, password):
    h = hashlib.sha1(f"{user}:{password}".encode()).digest()
    return f"{user}:{base64.b64encode(h).decode()}"


DIGEST = digest_id(DIGEST_USER, DIGEST_PASS)


def test_default_acl_and_get_acl_s(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node}", f"getAcl {node}", f"getAcl -s {node}")
    assert out[1:3] == ["'world,'anyone", ": cdrwa"]
    assert out[3:5] == ["'world,'anyone", ": cdrwa"]
    assert parse_stat(out[5:])["aclVersion"] == "0"


def test_set_acl_world_read_only(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node} d", f"setAcl {node} world:anyone:r",
                    f"getAcl {node}", f"get {node}", f"set {node} x", f"create {node}/k",
                    f"setAcl {node} world:anyone:cdrwa", f"stat {node}")
    assert out[:7] == [f"Created {node}", "'world,'anyone", ": r", "d",
                       f"Insufficient permission : {node}",
                       f"Insufficient permission : {node}/k",
                       f"Insufficient permission : {node}"]
    st = parse_stat(out)
    assert st["aclVersion"] == "1" and st["dataVersion"] == "0" and st["numChildren"] == "0"


def test_set_acl_version_check(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node}", f"setAcl -v 3 {node} world:anyone:cdrw",
                    f"setAcl -s -v 0 {node} world:anyone:cdrw", f"getAcl {node}")
    assert out[1] == f"version No is not valid : {node}"
    assert parse_stat(out[2:13])["aclVersion"] == "1"
    assert out[13:] == ["'world,'anyone", ": cdrw"]


def test_digest_acl_with_addauth(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node} secret digest:{DIGEST}:cdrwa",
                    f"get {node}", f"ls {node}", f"set {node} x", f"getAcl {node}",
                    f"addauth digest {DIGEST_USER}:wrong", f"get {node}")
    assert out == [f"Created {node}"] + [f"Insufficient permission : {node}"] * 5
    out = cli.batch(zk_connect, f"addauth digest {DIGEST_USER}:{DIGEST_PASS}",
                    f"get {node}", f"getAcl {node}", f"set {node} changed", f"get {node}")
    assert out == ["secret", f"'digest,'{DIGEST}", ": cdrwa", "changed"]


def test_auth_scheme_acl(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node} x auth::cdrwa")
    assert out == ["KeeperErrorCode = InvalidACL for " + node, f"Acl is not valid : {node}"]
    out = cli.batch(zk_connect, f"addauth digest {DIGEST_USER}:{DIGEST_PASS}",
                    f"create {node} x auth::cdrwa", f"getAcl {node}")
    assert out == [f"Created {node}", f"'digest,'{DIGEST}", ": cdrwa"]


def test_ip_acl(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node}", f"create {node}/mine m ip:127.0.0.1:cdrwa",
                    f"get {node}/mine", f"getAcl {node}/mine",
                    f"create {node}/other o ip:192.0.2.1:cdrwa,world:anyone:c",
                    f"get {node}/other", f"getAcl {node}/other", f"delete {node}/other")
    assert out == [f"Created {node}", f"Created {node}/mine", "m", "'ip,'127.0.0.1", ": cdrwa",
                   f"Created {node}/other", f"Insufficient permission : {node}/other",
                   f"Insufficient permission : {node}/other"]


def test_invalid_acls(zk_connect, node):
    # note: the ACL is validated before the parent's existence (node/a has no parent yet);
    # create prints two lines, setAcl one
    out = cli.batch(zk_connect, f"create {node}/a x foo:bar:cdrwa",
                    f"create {node}/b x ip:999.9.9.9:cdrwa", f"create {node} x",
                    f"setAcl {node} digest:nocolon:cdrwa", f"getAcl {node}")
    assert out == [f"KeeperErrorCode = InvalidACL for {node}/a", f"Acl is not valid : {node}/a",
                   f"KeeperErrorCode = InvalidACL for {node}/b", f"Acl is not valid : {node}/b",
                   f"Created {node}",
                   f"Acl is not valid : {node}",
                   "'world,'anyone", ": cdrwa"]


def test_delete_permission_is_on_parent(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node}", f"create {node}/k x world:anyone:r",
                    f"setAcl {node} world:anyone:rca", f"delete {node}/k",
                    f"setAcl {node} world:anyone:cdrwa", f"delete {node}/k", f"ls {node}")
    assert out == [f"Created {node}", f"Created {node}/k",
                   f"Insufficient permission : {node}/k", "[]"]


def test_whoami(zk_connect):
    out = cli.batch(zk_connect, "whoami", f"addauth digest {DIGEST_USER}:{DIGEST_PASS}", "whoami")
    assert out[:2] == ["Auth scheme: User", "ip: 127.0.0.1"]
    assert out[2] == "Auth scheme: User"
    assert sorted(out[3:]) == [f"digest: {DIGEST_USER}", "ip: 127.0.0.1"]
