"""kazoo's high-level recipes, each run with two or more real sessions."""
import threading

from kazoo.recipe.barrier import Barrier, DoubleBarrier
from kazoo.recipe.counter import Counter
from kazoo.recipe.election import Election
from kazoo.recipe.lock import Lock, Semaphore
from kazoo.recipe.queue import LockingQueue, Queue

from kazoo_ext import wait_for_children

WAIT = 15.0


def test_lock_mutual_exclusion(zk, zk2, base):
    l1 = Lock(zk, base + "/lock", "one")
    l2 = Lock(zk2, base + "/lock", "two")
    assert l1.acquire(timeout=WAIT)
    # held by the other session: a bounded non-blocking attempt fails
    assert l2.acquire(blocking=False) is False
    assert l2.contenders() == ["one"]
    got = threading.Event()

    def waiter():
        if l2.acquire(timeout=WAIT):
            got.set()

    t = threading.Thread(target=waiter, daemon=True)
    t.start()
    # the waiter's znode appears (a second contender) before the release
    assert wait_for_children(zk, base + "/lock", 2)
    assert not got.is_set()
    l1.release()
    assert got.wait(WAIT), "second client never acquired the released lock"
    t.join(WAIT)
    assert l2.contenders() == ["two"]
    l2.release()
    assert zk.get_children(base + "/lock") == []


def test_lock_released_when_holder_session_closes(make_client, zk2, base):
    holder = make_client()
    l1 = Lock(holder, base + "/lock")
    assert l1.acquire(timeout=WAIT)
    l2 = Lock(zk2, base + "/lock")
    holder.stop()  # ephemeral lock node goes with the session
    assert l2.acquire(timeout=WAIT)
    l2.release()


def test_semaphore_limits_holders(zk, zk2, make_client, base):
    zk3 = make_client()
    s1 = Semaphore(zk, base + "/sem", max_leases=2)
    s2 = Semaphore(zk2, base + "/sem", max_leases=2)
    s3 = Semaphore(zk3, base + "/sem", max_leases=2)
    assert s1.acquire(timeout=WAIT)
    assert s2.acquire(timeout=WAIT)
    assert s3.acquire(blocking=False) is False
    s1.release()
    assert s3.acquire(timeout=WAIT)
    s2.release()
    s3.release()


def test_election_exactly_one_leader_then_failover(make_client, base):
    c1, c2 = make_client(), make_client()
    e1 = Election(c1, base + "/election", "c1")
    e2 = Election(c2, base + "/election", "c2")
    leading = []
    lock = threading.Lock()
    became = {"c1": threading.Event(), "c2": threading.Event()}
    stop = {"c1": threading.Event(), "c2": threading.Event()}
    max_concurrent = [0]

    def lead(name):
        with lock:
            leading.append(name)
            max_concurrent[0] = max(max_concurrent[0], len(leading))
        became[name].set()
        stop[name].wait(WAIT)
        with lock:
            leading.remove(name)

    t1 = threading.Thread(target=e1.run, args=(lead, "c1"), daemon=True)
    t1.start()
    assert became["c1"].wait(WAIT)
    t2 = threading.Thread(target=e2.run, args=(lead, "c2"), daemon=True)
    t2.start()
    # c2 is a contender but not the leader while c1 leads
    assert wait_for_children(c1, base + "/election", 2)
    assert e1.contenders() == ["c1", "c2"]
    assert not became["c2"].is_set()
    stop["c1"].set()  # c1 returns from its leadership function and resigns
    assert became["c2"].wait(WAIT), "c2 never became leader after c1 resigned"
    stop["c2"].set()
    t1.join(WAIT)
    t2.join(WAIT)
    assert max_concurrent[0] == 1


def test_barrier(zk, zk2, base):
    b1 = Barrier(zk, base + "/barrier")
    b2 = Barrier(zk2, base + "/barrier")
    b1.create()
    assert b2.wait(timeout=0.5) is False  # up: waiting times out
    released = threading.Event()

    def waiter():
        if b2.wait(timeout=WAIT):
            released.set()

    t = threading.Thread(target=waiter, daemon=True)
    t.start()
    b1.remove()
    assert released.wait(WAIT)
    t.join(WAIT)
    assert b1.wait(timeout=0.1) is True  # no barrier node: passes at once


def test_double_barrier_two_parties(zk, zk2, base):
    d1 = DoubleBarrier(zk, base + "/dbl", 2)
    d2 = DoubleBarrier(zk2, base + "/dbl", 2)
    entered = threading.Event()

    def second():
        d2.enter()
        entered.set()
        d2.leave()

    t = threading.Thread(target=second, daemon=True)
    t.start()
    d1.enter()  # returns only once both parties are in
    assert entered.wait(WAIT)
    d1.leave()
    t.join(WAIT)
    assert not t.is_alive()


def test_counter_concurrent_increments(zk, zk2, base):
    c1 = Counter(zk, base + "/counter")
    c2 = Counter(zk2, base + "/counter")

    def bump(c, n):
        for _ in range(n):
            c += 1

    ts = [threading.Thread(target=bump, args=(c, 20)) for c in (c1, c2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert c1.value == 40
    assert Counter(zk2, base + "/counter").value == 40
    c1 -= 5
    assert c2.value == 35
    f = Counter(zk, base + "/fcounter", default=0.5)
    f += 1.25
    assert f.value == 1.75


def test_queue_fifo_across_clients(zk, zk2, base):
    q1 = Queue(zk, base + "/queue")
    q2 = Queue(zk2, base + "/queue")
    for i in range(5):
        q1.put(f"item-{i}".encode())
    q1.put(b"urgent", priority=10)  # lower number = higher priority
    q1.put(b"first", priority=0)
    assert len(q2) == 7
    got = [q2.get() for _ in range(7)]
    assert got == [b"first", b"urgent"] + [f"item-{i}".encode() for i in range(5)]
    assert q2.get() is None
    assert len(q1) == 0


def test_locking_queue_consume(zk, zk2, base):
    q1 = LockingQueue(zk, base + "/lq")
    q2 = LockingQueue(zk2, base + "/lq")
    q1.put_all([b"a", b"b"])
    assert q2.get(timeout=WAIT) == b"a"
    # q2 holds "a" until consume(); another consumer gets the next entry
    assert q1.get(timeout=WAIT) == b"b"
    assert q2.consume() and q1.consume()
    assert len(q1) == 0
    assert q1.get(timeout=0.5) is None
