#!/usr/bin/env python3
"""Replays a Java 3.8.0 follower's CommitProcessor from its debug log and names every commit
that came out of turn: what wedges a Java follower's clients (README "A Java follower's
clients wedged").

    commit_order.py MEMBER_LOG

The log must have CommitProcessor at debug with timestamps, e.g. the stage run with
    ENSEMBLE_JAVA_PROPS="org.slf4j.simpleLogger.showDateTime=true \\
      org.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS \\
      org.slf4j.simpleLogger.log.org.apache.zookeeper.server.quorum.CommitProcessor=debug"

CommitProcessor logs "Processing request::" for each of its clients' requests and
"Committing request::" for each commit (a SYNC reply is one). The requests that wait for a
commit (needCommit: writes, sync, createSession, closeSession) queue in arrival order
(queuedWriteRequests), and a commit is matched to the head of that queue only, by session and
cxid. A commit of one of its own requests that is not the head is taken for another server's:
that request's client is never answered, and the head waits for ever. Prints each such commit
(the first ten) with the queue's head, and the count; exit 1 if there was one.
"""

import re
import sys

# CommitProcessor.needCommit on a follower (matchSyncs), local sessions off.
NEEDS_COMMIT = {"create", "create2", "createTTL", "createContainer", "delete", "deleteContainer",
                "setData", "reconfig", "multi", "setACL", "check", "sync", "createSession",
                "closeSession"}
LINE = re.compile(r"^(\S+) \[(.*?)\] DEBUG \S+CommitProcessor - (Processing|Committing) "
                  r"request:: sessionid:(0x[0-9a-f]+) type:(\S+) cxid:(0x[0-9a-f]+) "
                  r"zxid:(0x[0-9a-f]+)")
SHOWN = 10


def replay(lines):
    """Yields (time, committed (session, cxid, type, zxid), queue head) for every commit of a
    local request that was not at the head of the queue."""
    queue = []  # (session, cxid, type, time) of requests waiting for a commit, in order
    for line in lines:
        if "CommitProcessor - Shutting down" in line:
            queue = []  # a new ZooKeeperServer (a new sync with the leader) starts afresh
            continue
        m = LINE.match(line)
        if not m:
            continue
        time, _thread, kind, session, op, cxid, zxid = m.groups()
        cxid = int(cxid, 16)
        if kind == "Processing":
            if op in NEEDS_COMMIT:
                queue.append((session, cxid, op, time))
            continue
        if queue and queue[0][:2] == (session, cxid):
            queue.pop(0)
        elif any(q[:2] == (session, cxid) for q in queue):
            yield time, (session, cxid, op, zxid), queue[0]


def main():
    if len(sys.argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    n = 0
    with open(sys.argv[1], errors="replace") as f:
        for time, (session, cxid, op, zxid), head in replay(f):
            n += 1
            if n <= SHOWN:
                print("%s commit of %s session %s cxid %d (zxid %s) while the oldest waiting "
                      "request is %s session %s cxid %d (since %s)"
                      % (time, op, session, cxid, zxid, head[2], head[0], head[1], head[3]))
    print("%d commit(s) out of turn" % n)
    return 1 if n else 0


if __name__ == "__main__":
    sys.exit(main())
