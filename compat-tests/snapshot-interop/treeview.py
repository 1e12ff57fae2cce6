"""Comparing a snapshot as FerroKeeper's reader decodes it with the tree a live Java
ZooKeeper serves (through kazoo)."""

from kazoo.exceptions import NoNodeError
from kazoo.security import ACL, Id

CONTAINER_OWNER = -(1 << 63)


def client_owner(raw):
    """ephemeralOwner as clients see it: 0 for containers and TTL nodes (high byte 0xff)."""
    if raw == CONTAINER_OWNER or (raw < 0 and (raw >> 56) & 0xff == 0xff):
        return 0
    return raw


def parse_dump(objs):
    """dump_snapshot's JSON lines → dict with file, sessions, acls, nodes (path → obj,
    root as "/"), order (node paths in file order), trailer, load."""
    out = {"sessions": {}, "acls": {}, "nodes": {}, "order": [], "rejected": []}
    for o in objs:
        t = o["type"]
        if t == "node":
            path = o["path"] or "/"
            out["nodes"][path] = o
            out["order"].append(o["path"])
        elif t == "session":
            out["sessions"][o["id"]] = o["timeout"]
        elif t == "acl":
            out["acls"][o["id"]] = [(a["perms"], a["scheme"], a["id"]) for a in o["acls"]]
        elif t == "rejected":
            out["rejected"].append(o)
        else:
            out[t] = o
    return out


def acl_list(dump, acl_id):
    if acl_id == -1:
        return [(31, "world", "anyone")]
    return dump["acls"][acl_id]


def java_tree(zk):
    """Every node Java serves: path → (data, stat, [(perms, scheme, id)])."""
    out = {}
    stack = ["/"]
    while stack:
        path = stack.pop()
        try:
            data, stat = zk.get(path)
            acls, _ = zk.get_acls(path)
            kids = zk.get_children(path)
        except NoNodeError:
            continue
        out[path] = (data, stat, [(a.perms, a.id.scheme, a.id.id) for a in acls])
        for k in kids:
            stack.append(("" if path == "/" else path) + "/" + k)
    return out


def compare(dump, java, skip_data=()):
    """List of differences between a decoded snapshot and Java's served tree."""
    problems = []
    snap_paths = set(dump["nodes"])
    java_paths = set(java)
    if snap_paths != java_paths:
        problems.append("paths only in snapshot: %s; only in Java: %s"
                        % (sorted(snap_paths - java_paths), sorted(java_paths - snap_paths)))
    for path in sorted(snap_paths & java_paths):
        n = dump["nodes"][path]
        data, st, acls = java[path]
        snap_data = None if n["data"] is None else bytes.fromhex(n["data"])
        # kazoo reads a null buffer as None, Java serves null data as null.
        if path not in skip_data and snap_data != data:
            problems.append("%s: data %r (snapshot) vs %r (Java)" % (path, snap_data[:40] if snap_data else snap_data, data[:40] if data else data))
        want = {
            "czxid": n["czxid"], "mzxid": n["mzxid"], "ctime": n["ctime"], "mtime": n["mtime"],
            "version": n["version"], "aversion": n["aversion"], "pzxid": n["pzxid"],
            "ephemeralOwner": client_owner(n["ephemeralOwner"]),
            # Clients see 2 × persisted cversion − number of children.
            "cversion": 2 * n["cversion"] - st.numChildren,
        }
        got = {
            "czxid": st.czxid, "mzxid": st.mzxid, "ctime": st.ctime, "mtime": st.mtime,
            "version": st.version, "aversion": st.aversion, "pzxid": st.pzxid,
            "ephemeralOwner": st.ephemeralOwner, "cversion": st.cversion,
        }
        if want != got:
            problems.append("%s: stat %s (snapshot) vs %s (Java)" % (
                path, {k: v for k, v in want.items() if got[k] != v},
                {k: v for k, v in got.items() if want[k] != v}))
        if acl_list(dump, n["acl"]) != acls:
            problems.append("%s: ACL %s (snapshot id %d) vs %s (Java)"
                            % (path, acl_list(dump, n["acl"]), n["acl"], acls))
    return problems


def check_preorder(dump):
    """Root first as "", every node after its parent."""
    order = dump["order"]
    assert order and order[0] == "", "the root must come first with path \"\": %r" % order[:3]
    seen = {""}
    for p in order[1:]:
        parent = p[: p.rfind("/")]
        assert parent in seen, "%s comes before its parent" % p
        seen.add(p)
