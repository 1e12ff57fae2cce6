"""dump_tree: a complete, comparable picture of a server's data tree, read through kazoo.

For every node (the whole tree from "/", the /zookeeper subtree included) it records
    data       bytes, or None for a null data buffer (kazoo decodes a -1 length as None, so
               null and empty data stay distinct)
    acl        sorted list of (perms, scheme, id)
    stat       every Stat field: czxid mzxid ctime mtime version cversion aversion
               ephemeralOwner dataLength numChildren pzxid
    children   sorted child names
and, for the whole tree, the server's last zxid from the four-letter word `srvr`.

The dump must be taken while nothing else writes. The Stat returned by getData, getACL
and getChildren for one node are required to be identical (a server that disagrees with
itself is reported, not averaged).
"""

import collections

from kazoo.exceptions import NoAuthError, NoNodeError

from servers import srvr_zxid

STAT_FIELDS = ("czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion",
               "ephemeralOwner", "dataLength", "numChildren", "pzxid")

MAX_NODES = 200_000


class DumpError(Exception):
    pass


def stat_dict(st):
    return collections.OrderedDict((f, getattr(st, f)) for f in STAT_FIELDS)


def acl_list(acls):
    return sorted((a.perms, a.id.scheme, a.id.id) for a in acls)


def dump_tree(client, port=None, root="/", batch=256, timeout=30.0):
    """Walk the tree under `root` with `client` (a started KazooClient). `port`: where to
    ask `srvr` for the last zxid (default: the port kazoo is connected to).

    Requests are pipelined, `batch` nodes (3 requests each) at a time, level by level.
    Returns {"zxid": int, "nodes": {path: {"data", "acl", "stat", "children"}}}.
    A node the client may not read is a DumpError (the harness gives the dumping client
    every credential it used, so a dump is always complete)."""
    if port is None:
        port = int(client._connection._socket.getpeername()[1])
    nodes = {}
    level = [root]
    for _depth in range(10_000):
        if not level:
            break
        nxt = []
        for i in range(0, len(level), batch):
            chunk = level[i:i + batch]
            pending = [(p, client.get_async(p), client.get_acls_async(p),
                        client.get_children_async(p, include_data=True)) for p in chunk]
            for path, rd, ra, rk in pending:
                try:
                    data, st_data = rd.get(timeout=timeout)
                    acls, st_acl = ra.get(timeout=timeout)
                    children, st_kids = rk.get(timeout=timeout)
                except NoNodeError:
                    raise DumpError("%s vanished during the dump (is something still writing?)"
                                    % path)
                except NoAuthError:
                    raise DumpError("no permission to read %s: the dump would be incomplete"
                                    % path)
                sd, sa, sk = stat_dict(st_data), stat_dict(st_acl), stat_dict(st_kids)
                if not (sd == sa == sk):
                    raise DumpError("%s: getData/getACL/getChildren returned different Stats:"
                                    "\n %s\n %s\n %s" % (path, dict(sd), dict(sa), dict(sk)))
                nodes[path] = {
                    "data": data,
                    "acl": acl_list(acls),
                    "stat": dict(sd),
                    "children": sorted(children),
                }
                base = path if path.endswith("/") else path + "/"
                nxt.extend(base + c for c in sorted(children))
                if len(nodes) + len(nxt) > MAX_NODES:
                    raise DumpError("more than %d nodes" % MAX_NODES)
        level = nxt
    zxid = srvr_zxid(port)
    if zxid is None:
        raise DumpError("server on port %d did not answer srvr" % port)
    return {"zxid": zxid, "nodes": dict(sorted(nodes.items()))}


def _short(v, limit=120):
    r = repr(v)
    return r if len(r) <= limit else r[:limit] + "...(%d chars)" % len(r)


def diff_nodes(a, b, limit=40):
    """Human-readable differences between the node maps of two dumps ([] when equal)."""
    out = []
    na, nb = a["nodes"], b["nodes"]
    for p in sorted(set(na) - set(nb)):
        out.append("only in A: %s" % p)
    for p in sorted(set(nb) - set(na)):
        out.append("only in B: %s" % p)
    for p in sorted(set(na) & set(nb)):
        x, y = na[p], nb[p]
        if x["data"] != y["data"]:
            out.append("%s data: A=%s B=%s" % (p, _short(x["data"]), _short(y["data"])))
        if x["acl"] != y["acl"]:
            out.append("%s acl: A=%s B=%s" % (p, x["acl"], y["acl"]))
        for f in STAT_FIELDS:
            if x["stat"][f] != y["stat"][f]:
                out.append("%s %s: A=%s B=%s" % (p, f, x["stat"][f], y["stat"][f]))
        if x["children"] != y["children"]:
            out.append("%s children: A=%s B=%s" % (p, _short(x["children"]),
                                                    _short(y["children"])))
    if len(out) > limit:
        out = out[:limit] + ["... and %d more differences" % (len(out) - limit)]
    return out


def check_consistent(dump):
    """Internal consistency of one dump; returns a list of problems ([] when fine).

    numChildren == len(children); dataLength == len(data); every zxid <= the server's
    last zxid; czxid <= mzxid; czxid <= pzxid; each child's czxid <= the parent's pzxid;
    no two nodes share a czxid unless both were created by one multi (not checked here:
    the caller knows); children listed exist in the dump."""
    out = []
    last = dump["zxid"]
    nodes = dump["nodes"]
    for p, n in nodes.items():
        st = n["stat"]
        if st["numChildren"] != len(n["children"]):
            out.append("%s numChildren=%d but %d children" % (p, st["numChildren"],
                                                               len(n["children"])))
        dl = 0 if n["data"] is None else len(n["data"])
        if st["dataLength"] != dl:
            out.append("%s dataLength=%d but data has %d bytes" % (p, st["dataLength"], dl))
        for f in ("czxid", "mzxid", "pzxid"):
            if st[f] > last:
                out.append("%s %s=%#x is above the server's last zxid %#x" % (p, f, st[f], last))
        if st["czxid"] > st["mzxid"]:
            out.append("%s czxid %#x > mzxid %#x" % (p, st["czxid"], st["mzxid"]))
        if st["czxid"] > st["pzxid"]:
            out.append("%s czxid %#x > pzxid %#x" % (p, st["czxid"], st["pzxid"]))
        base = p if p.endswith("/") else p + "/"
        for c in n["children"]:
            cp = base + c
            if cp not in nodes:
                out.append("%s lists child %s that is not in the dump" % (p, c))
            elif nodes[cp]["stat"]["czxid"] > st["pzxid"]:
                out.append("%s pzxid %#x is below its child %s's czxid %#x"
                           % (p, st["pzxid"], c, nodes[cp]["stat"]["czxid"]))
    return out
