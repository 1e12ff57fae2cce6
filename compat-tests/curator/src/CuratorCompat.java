import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.api.transaction.OperationType;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.PathChildrenCache;
import org.apache.curator.framework.recipes.cache.PathChildrenCacheEvent;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.recipes.nodes.PersistentTtlNode;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

/**
 * Curator 5 (Debian's libcurator-*-java) against a ZooKeeper-compatible server.
 * Usage: java CuratorCompat HOST:PORT. Prints "PASS name" / "FAIL name: why" per check and a
 * closing "curator: N passed, M failed"; exit status 1 if anything failed.
 */
public class CuratorCompat {
    interface Check { void run() throws Exception; }

    static final long WAIT_S = 15;
    static String connect;
    static String root;
    static final List<CuratorFramework> clients = Collections.synchronizedList(new ArrayList<>());

    static byte[] b(String s) { return s.getBytes(StandardCharsets.UTF_8); }
    static String s(byte[] b) { return b == null ? null : new String(b, StandardCharsets.UTF_8); }

    static void check(boolean cond, String what) {
        if (!cond) throw new AssertionError(what);
    }

    static void eq(Object expected, Object actual, String what) {
        if (expected == null ? actual != null : !expected.equals(actual))
            throw new AssertionError(what + ": expected <" + expected + "> got <" + actual + ">");
    }

    static <T extends Throwable> T expect(Class<T> cls, Check c, String what) throws Exception {
        try {
            c.run();
        } catch (Throwable t) {
            if (cls.isInstance(t)) return cls.cast(t);
            throw new AssertionError(what + ": expected " + cls.getSimpleName() + " got " + t);
        }
        throw new AssertionError(what + ": expected " + cls.getSimpleName() + ", nothing thrown");
    }

    static CuratorFramework client() throws Exception { return client(10000); }

    static CuratorFramework client(int sessionTimeoutMs) throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .sessionTimeoutMs(sessionTimeoutMs)
                .connectionTimeoutMs(5000)
                .retryPolicy(new RetryNTimes(3, 200))
                .build();
        clients.add(c);
        c.start();
        if (!c.blockUntilConnected(10, TimeUnit.SECONDS)) throw new AssertionError("could not connect to " + connect);
        return c;
    }

    static void close(AutoCloseable... cs) {
        for (AutoCloseable c : cs) {
            try { if (c != null) c.close(); } catch (Exception ignored) { }
        }
    }

    // ------------------------------------------------------------------ checks

    static void crud() throws Exception {
        CuratorFramework c = client();
        String p = root + "/crud/a/b/c";
        String made = c.create().creatingParentsIfNeeded().forPath(p, b("leaf"));
        eq(p, made, "created path");
        eq("leaf", s(c.getData().forPath(p)), "data");
        Stat st = new Stat();
        c.getData().storingStatIn(st).forPath(p);
        eq(0, st.getVersion(), "version");
        eq(4, st.getDataLength(), "dataLength");
        eq(1, c.checkExists().forPath(root + "/crud/a").getNumChildren(), "parent numChildren");
        Stat st2 = c.setData().withVersion(0).forPath(p, b("v1"));
        eq(1, st2.getVersion(), "version after set");
        expect(KeeperException.BadVersionException.class,
                () -> c.setData().withVersion(0).forPath(p, b("v2")), "stale setData");
        expect(KeeperException.NodeExistsException.class, () -> c.create().forPath(p), "duplicate create");
        expect(KeeperException.NoNodeException.class, () -> c.getData().forPath(p + "/none"), "missing");
        check(c.checkExists().forPath(p + "/none") == null, "checkExists of missing is null");
        // create with a Stat => create2 under the hood
        Stat cst = new Stat();
        c.create().storingStatIn(cst).forPath(root + "/crud/withstat", b("x"));
        check(cst.getCzxid() > 0 && cst.getCzxid() == cst.getMzxid(), "create2 stat filled: " + cst);
        // orSetData
        c.create().orSetData().forPath(root + "/crud/withstat", b("y"));
        eq("y", s(c.getData().forPath(root + "/crud/withstat")), "orSetData");
        eq(Arrays.asList("a", "withstat"), sorted(c.getChildren().forPath(root + "/crud")), "children");
        expect(KeeperException.NotEmptyException.class, () -> c.delete().forPath(root + "/crud/a"), "delete non-empty");
        c.delete().deletingChildrenIfNeeded().forPath(root + "/crud/a");
        check(c.checkExists().forPath(root + "/crud/a") == null, "deleted subtree");
    }

    static List<String> sorted(List<String> l) { List<String> r = new ArrayList<>(l); Collections.sort(r); return r; }

    static void containerParents() throws Exception {
        CuratorFramework c = client();
        String p = root + "/cont/parent/leaf";
        c.create().creatingParentContainersIfNeeded().forPath(p, b("x"));
        eq("x", s(c.getData().forPath(p)), "leaf data");
        // the parents are containers: once the leaf goes, the server reaps the empty parent
        CountDownLatch gone = new CountDownLatch(1);
        c.delete().forPath(p);
        Stat st = c.checkExists().usingWatcher((Watcher) ev -> {
            if (ev.getType() == Watcher.Event.EventType.NodeDeleted) gone.countDown();
        }).forPath(root + "/cont/parent");
        if (st != null) check(gone.await(reapWait(), TimeUnit.SECONDS), "container parent was not reaped");
        check(c.checkExists().forPath(root + "/cont/parent") == null, "container parent gone");
    }

    static long reapWait() {
        String v = System.getenv("COMPAT_REAP_WAIT_S");
        return v == null ? 15 : (long) Double.parseDouble(v);
    }

    static void modes() throws Exception {
        CuratorFramework c = client();
        c.create().creatingParentsIfNeeded().forPath(root + "/modes");
        String e = c.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(root + "/modes/e-", b("1"));
        eq(root + "/modes/e-0000000000", e, "ephemeral sequential name");
        eq(c.getZookeeperClient().getZooKeeper().getSessionId(), c.checkExists().forPath(e).getEphemeralOwner(), "owner");
        String t = c.create().withTtl(600000).withMode(CreateMode.PERSISTENT_WITH_TTL).forPath(root + "/modes/ttl", b("t"));
        eq(root + "/modes/ttl", t, "ttl create");
        eq(0L, c.checkExists().forPath(t).getEphemeralOwner(), "ttl ephemeralOwner hidden");
        String cont = c.create().withMode(CreateMode.CONTAINER).forPath(root + "/modes/cont");
        eq(root + "/modes/cont", cont, "container create");
        String prot = c.create().withProtection().withMode(CreateMode.EPHEMERAL).forPath(root + "/modes/prot", b("p"));
        check(prot.matches(".*/_c_[0-9a-f-]{36}-prot$"), "protected name: " + prot);
    }

    static void acls() throws Exception {
        CuratorFramework c = client();
        String digest = DigestAuthenticationProvider.generateDigest("cur:pw");
        List<ACL> acl = Collections.singletonList(new ACL(ZooDefs.Perms.ALL, new Id("digest", digest)));
        c.create().creatingParentsIfNeeded().withACL(acl).forPath(root + "/acl/secret", b("s"));
        expect(KeeperException.NoAuthException.class, () -> c.getData().forPath(root + "/acl/secret"), "no auth");
        CuratorFramework authed = CuratorFrameworkFactory.builder().connectString(connect)
                .sessionTimeoutMs(10000).connectionTimeoutMs(5000).retryPolicy(new RetryNTimes(3, 200))
                .authorization("digest", b("cur:pw")).build();
        clients.add(authed);
        authed.start();
        check(authed.blockUntilConnected(10, TimeUnit.SECONDS), "connect");
        eq("s", s(authed.getData().forPath(root + "/acl/secret")), "authorized read");
        eq(acl, authed.getACL().forPath(root + "/acl/secret"), "getACL");
        Stat st = authed.setACL().withVersion(0).withACL(ZooDefs.Ids.OPEN_ACL_UNSAFE).forPath(root + "/acl/secret");
        eq(1, st.getAversion(), "aversion");
        eq("s", s(c.getData().forPath(root + "/acl/secret")), "open after setACL");
    }

    static void transaction() throws Exception {
        CuratorFramework c = client();
        c.create().creatingParentsIfNeeded().forPath(root + "/txn/v", b("0"));
        CuratorOp op1 = c.transactionOp().create().forPath(root + "/txn/new", b("n"));
        CuratorOp op2 = c.transactionOp().setData().withVersion(0).forPath(root + "/txn/v", b("1"));
        CuratorOp op3 = c.transactionOp().check().withVersion(1).forPath(root + "/txn/v");
        CuratorOp op4 = c.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(root + "/txn/s-");
        List<CuratorTransactionResult> res = c.transaction().forOperations(op1, op2, op3, op4);
        eq(4, res.size(), "results");
        eq(OperationType.CREATE, res.get(0).getType(), "op1 type");
        eq(root + "/txn/new", res.get(0).getResultPath(), "op1 path");
        eq(OperationType.SET_DATA, res.get(1).getType(), "op2 type");
        eq(1, res.get(1).getResultStat().getVersion(), "op2 stat version");
        eq(OperationType.CHECK, res.get(2).getType(), "op3 type");
        eq(root + "/txn/s-0000000002", res.get(3).getResultPath(), "op4 sequential name");
        eq(0, res.get(0).getError(), "op1 error");
        // failing transaction: nothing applied, error per op
        CuratorOp f1 = c.transactionOp().create().forPath(root + "/txn/never");
        CuratorOp f2 = c.transactionOp().check().withVersion(7).forPath(root + "/txn/v");
        CuratorOp f3 = c.transactionOp().delete().forPath(root + "/txn/new");
        KeeperException ke = expect(KeeperException.class, () -> c.transaction().forOperations(f1, f2, f3), "failing txn");
        eq(KeeperException.Code.BADVERSION, ke.code(), "failing txn code");
        check(c.checkExists().forPath(root + "/txn/never") == null, "rolled back create");
        check(c.checkExists().forPath(root + "/txn/new") != null, "rolled back delete");
        List<org.apache.zookeeper.OpResult> results = ke.getResults();
        check(results != null && results.size() == 3, "per-op results: " + results);
        eq(KeeperException.Code.OK.intValue(), ((org.apache.zookeeper.OpResult.ErrorResult) results.get(0)).getErr(), "op before failure");
        eq(KeeperException.Code.BADVERSION.intValue(), ((org.apache.zookeeper.OpResult.ErrorResult) results.get(1)).getErr(), "failing op");
        eq(KeeperException.Code.RUNTIMEINCONSISTENCY.intValue(), ((org.apache.zookeeper.OpResult.ErrorResult) results.get(2)).getErr(), "op after failure");
    }

    static void mutex() throws Exception {
        CuratorFramework c1 = client(), c2 = client();
        String path = root + "/mutex";
        InterProcessMutex m1 = new InterProcessMutex(c1, path);
        InterProcessMutex m2 = new InterProcessMutex(c2, path);
        check(m1.acquire(WAIT_S, TimeUnit.SECONDS), "first acquire");
        check(m1.acquire(WAIT_S, TimeUnit.SECONDS), "reentrant acquire");
        check(!m2.acquire(300, TimeUnit.MILLISECONDS), "second client must not get a held lock");
        m1.release();
        check(!m2.acquire(300, TimeUnit.MILLISECONDS), "still held once (reentrancy count 1)");
        ExecutorService ex = Executors.newSingleThreadExecutor();
        try {
            Future<Boolean> f = ex.submit(() -> m2.acquire(WAIT_S, TimeUnit.SECONDS));
            m1.release();
            check(f.get(WAIT_S + 5, TimeUnit.SECONDS), "second acquires after release");
            check(m2.isAcquiredInThisProcess(), "m2 holds");
            ex.submit(() -> { m2.release(); return null; }).get(WAIT_S, TimeUnit.SECONDS);
        } finally {
            ex.shutdownNow();
        }
        eq(0, c1.getChildren().forPath(path).size(), "lock nodes cleaned up");
    }

    static void semaphore() throws Exception {
        CuratorFramework c1 = client(), c2 = client();
        InterProcessSemaphoreV2 s1 = new InterProcessSemaphoreV2(c1, root + "/sem", 1);
        InterProcessSemaphoreV2 s2 = new InterProcessSemaphoreV2(c2, root + "/sem", 1);
        Lease l = s1.acquire(WAIT_S, TimeUnit.SECONDS);
        check(l != null, "first lease");
        check(s2.acquire(300, TimeUnit.MILLISECONDS) == null, "no second lease");
        s1.returnLease(l);
        Lease l2 = s2.acquire(WAIT_S, TimeUnit.SECONDS);
        check(l2 != null, "lease after return");
        s2.returnLease(l2);
    }

    static void leaderLatch() throws Exception {
        CuratorFramework c1 = client(), c2 = client();
        String path = root + "/latch";
        LeaderLatch a = new LeaderLatch(c1, path, "a");
        LeaderLatch b = new LeaderLatch(c2, path, "b");
        a.start();
        b.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
            // wait until one of them leads (await on both in turn, bounded)
            for (int i = 0; i < 1000 && !a.hasLeadership() && !b.hasLeadership() && System.nanoTime() < deadline; i++) {
                a.await(100, TimeUnit.MILLISECONDS);
            }
            check(a.hasLeadership() ^ b.hasLeadership(), "exactly one leader (a=" + a.hasLeadership() + ", b=" + b.hasLeadership() + ")");
            eq(2, a.getParticipants().size(), "participants");
            LeaderLatch leader = a.hasLeadership() ? a : b, other = leader == a ? b : a;
            eq(leader.getId(), other.getLeader().getId(), "both agree on the leader");
            leader.close();
            check(other.await(WAIT_S, TimeUnit.SECONDS), "the other becomes leader after close");
            check(other.hasLeadership(), "new leader");
            eq(1, other.getParticipants().size(), "one participant left");
        } finally {
            close(a, b);
        }
    }

    static void atomicLong() throws Exception {
        CuratorFramework c1 = client(), c2 = client();
        String path = root + "/along";
        DistributedAtomicLong x1 = new DistributedAtomicLong(c1, path, new RetryNTimes(50, 20));
        DistributedAtomicLong x2 = new DistributedAtomicLong(c2, path, new RetryNTimes(50, 20));
        ExecutorService ex = Executors.newFixedThreadPool(2);
        try {
            List<Future<Integer>> fs = new ArrayList<>();
            for (DistributedAtomicLong x : Arrays.asList(x1, x2)) {
                fs.add(ex.submit(() -> {
                    int ok = 0;
                    for (int i = 0; i < 25; i++) if (x.increment().succeeded()) ok++;
                    return ok;
                }));
            }
            int ok = 0;
            for (Future<Integer> f : fs) ok += f.get(60, TimeUnit.SECONDS);
            AtomicValue<Long> v = x1.get();
            check(v.succeeded(), "get");
            eq((long) ok, v.postValue(), "value equals successful increments");
            eq(50, ok, "all increments succeeded");
        } finally {
            ex.shutdownNow();
        }
        AtomicValue<Long> cas = x2.compareAndSet(50L, 100L);
        check(cas.succeeded() && cas.postValue() == 100L, "compareAndSet");
        check(!x1.compareAndSet(50L, 7L).succeeded(), "stale compareAndSet fails");
        eq(100L, x1.get().postValue(), "value after CAS");
    }

    static void sharedCount() throws Exception {
        CuratorFramework c1 = client(), c2 = client();
        SharedCount a = new SharedCount(c1, root + "/shared", 5);
        SharedCount b = new SharedCount(c2, root + "/shared", 0);
        a.start();
        b.start();
        try {
            eq(5, b.getCount(), "seed value visible");
            check(a.trySetCount(a.getVersionedValue(), 6), "trySetCount");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
            CountDownLatch seen = new CountDownLatch(1);
            b.addListener(new org.apache.curator.framework.recipes.shared.SharedCountListener() {
                public void countHasChanged(org.apache.curator.framework.recipes.shared.SharedCountReader r, int n) { if (n == 6) seen.countDown(); }
                public void stateChanged(CuratorFramework c, org.apache.curator.framework.state.ConnectionState s) { }
            });
            if (b.getCount() != 6) check(seen.await(WAIT_S, TimeUnit.SECONDS), "b sees 6");
            eq(6, b.getCount(), "b value");
        } finally {
            close(a, b);
        }
    }

    static void curatorCache() throws Exception {
        CuratorFramework c = client(), writer = client();
        String path = root + "/cache";
        c.create().creatingParentsIfNeeded().forPath(path, b("top"));
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        CountDownLatch init = new CountDownLatch(1);
        CuratorCache cache = CuratorCache.build(c, path);
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forCreates(d -> events.add("create " + d.getPath() + " " + s(d.getData())))
                .forChanges((o, n) -> events.add("change " + n.getPath() + " " + s(o.getData()) + "->" + s(n.getData())))
                .forDeletes(d -> events.add("delete " + d.getPath()))
                .forInitialized(init::countDown)
                .build());
        cache.start();
        try {
            check(init.await(WAIT_S, TimeUnit.SECONDS), "cache initialized");
            eq("create " + path + " top", poll(events), "initial node");
            writer.create().forPath(path + "/a", b("1"));
            eq("create " + path + "/a 1", poll(events), "create event");
            writer.setData().forPath(path + "/a", b("2"));
            eq("change " + path + "/a 1->2", poll(events), "change event");
            writer.create().forPath(path + "/a/deep", b("d"));
            eq("create " + path + "/a/deep d", poll(events), "recursive create event");
            writer.delete().deletingChildrenIfNeeded().forPath(path + "/a");
            List<String> dels = Arrays.asList(poll(events), poll(events));
            eq(sorted(Arrays.asList("delete " + path + "/a", "delete " + path + "/a/deep")), sorted(dels), "delete events");
            eq(1, cache.size(), "cache holds only the top node");
        } finally {
            cache.close();
        }
    }

    static String poll(BlockingQueue<String> q) throws Exception {
        String s = q.poll(WAIT_S, TimeUnit.SECONDS);
        if (s == null) throw new AssertionError("no event within " + WAIT_S + " s");
        return s;
    }

    @SuppressWarnings("deprecation")
    static void pathChildrenCache() throws Exception {
        CuratorFramework c = client(), writer = client();
        String path = root + "/pcc";
        c.create().creatingParentsIfNeeded().forPath(path);
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        PathChildrenCache pcc = new PathChildrenCache(c, path, true);
        pcc.getListenable().addListener((cl, ev) -> {
            if (ev.getData() != null) events.add(ev.getType() + " " + ev.getData().getPath() + " " + s(ev.getData().getData()));
        });
        pcc.start(PathChildrenCache.StartMode.BUILD_INITIAL_CACHE);
        try {
            writer.create().forPath(path + "/x", b("1"));
            eq("CHILD_ADDED " + path + "/x 1", poll(events), "added");
            writer.setData().forPath(path + "/x", b("2"));
            eq("CHILD_UPDATED " + path + "/x 2", poll(events), "updated");
            writer.delete().forPath(path + "/x");
            eq("CHILD_REMOVED " + path + "/x 2", poll(events), "removed");
        } finally {
            pcc.close();
        }
    }

    static void persistentWatch() throws Exception {
        CuratorFramework c = client(), writer = client();
        String path = root + "/pwatch";
        c.create().creatingParentsIfNeeded().forPath(path);
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        Watcher w = (WatchedEvent ev) -> { if (ev.getType() != Watcher.Event.EventType.None) events.add(ev.getType() + " " + ev.getPath()); };
        c.watchers().add().withMode(AddWatchMode.PERSISTENT_RECURSIVE).usingWatcher(w).forPath(path);
        writer.create().forPath(path + "/a");
        eq("NodeCreated " + path + "/a", poll(events), "recursive create");
        writer.create().forPath(path + "/a/b");
        eq("NodeCreated " + path + "/a/b", poll(events), "nested create");
        writer.setData().forPath(path + "/a/b", b("x"));
        eq("NodeDataChanged " + path + "/a/b", poll(events), "data change");
        writer.setData().forPath(path + "/a/b", b("y"));
        eq("NodeDataChanged " + path + "/a/b", poll(events), "fires again (persistent)");
        c.watchers().remove(w).ofType(Watcher.WatcherType.Any).forPath(path);
        String removed = poll(events);
        eq("PersistentWatchRemoved " + path, removed, "removal event");
        writer.delete().forPath(path + "/a/b");
        writer.sync().forPath(path);
        c.sync().forPath(path);
        c.getData().forPath(path); // a round trip after the delete: any event would precede it
        check(events.isEmpty(), "no events after removal: " + events);
    }

    static void persistentNode() throws Exception {
        CuratorFramework c = client(), other = client();
        String path = root + "/pnode/me";
        other.create().creatingParentsIfNeeded().forPath(root + "/pnode");
        PersistentNode node = new PersistentNode(c, CreateMode.EPHEMERAL, false, path, b("alive"));
        node.start();
        try {
            check(node.waitForInitialCreate(WAIT_S, TimeUnit.SECONDS), "initial create");
            eq("alive", s(other.getData().forPath(path)), "data");
            // someone deletes it: the recipe's watch sees that and re-creates it
            CountDownLatch back = new CountDownLatch(1);
            other.delete().forPath(path);
            Stat st = other.checkExists().usingWatcher((Watcher) ev -> {
                if (ev.getType() == Watcher.Event.EventType.NodeCreated) back.countDown();
            }).forPath(path);
            if (st == null) check(back.await(WAIT_S, TimeUnit.SECONDS), "node re-created");
            eq("alive", s(other.getData().forPath(path)), "data after re-create");
        } finally {
            node.close();
        }
        check(other.checkExists().forPath(path) == null, "removed on close");
    }

    static void persistentTtlNode() throws Exception {
        CuratorFramework c = client(), other = client();
        String path = root + "/ttlnode";
        PersistentTtlNode node = new PersistentTtlNode(c, path, 1000, b("ttl"));
        node.start();
        try {
            check(node.waitForInitialCreate(WAIT_S, TimeUnit.SECONDS), "initial create");
            eq("ttl", s(other.getData().forPath(path)), "data");
            // the recipe keeps the TTL node alive by touching a TTL child every ttl/2
            CountDownLatch kid = new CountDownLatch(1);
            List<String> kids = other.getChildren().usingWatcher((Watcher) ev -> kid.countDown()).forPath(path);
            if (kids.isEmpty()) check(kid.await(WAIT_S, TimeUnit.SECONDS), "touch child created");
            eq(Collections.singletonList("touch"), other.getChildren().forPath(path), "touch child");
        } finally {
            node.close();
        }
        // once no longer touched, the child and then the parent expire (TTL 1 s + reaper)
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(reapWait() * 2);
        for (int i = 0; i < 100 && other.checkExists().forPath(path) != null; i++) {
            CountDownLatch gone = new CountDownLatch(1);
            Stat st = other.checkExists().usingWatcher((Watcher) ev -> gone.countDown()).forPath(path);
            if (st == null) break;
            long left = deadline - System.nanoTime();
            check(left > 0 && gone.await(left, TimeUnit.NANOSECONDS), "TTL node not removed after close");
        }
        check(other.checkExists().forPath(path) == null, "TTL node removed after close");
    }

    static void negotiatedSessionTimeout() throws Exception {
        // with tickTime=2000 (the default) the server clamps to [2*tickTime, 20*tickTime]
        int tick = Integer.parseInt(System.getenv().getOrDefault("COMPAT_TICK_TIME", "2000"));
        CuratorFramework lo = client(1000), mid = client(10000), hi = client(100000);
        eq(2 * tick, lo.getZookeeperClient().getZooKeeper().getSessionTimeout(), "clamped to minimum");
        eq(10000, mid.getZookeeperClient().getZooKeeper().getSessionTimeout(), "accepted as asked");
        eq(20 * tick, hi.getZookeeperClient().getZooKeeper().getSessionTimeout(), "clamped to maximum");
    }

    // ------------------------------------------------------------------ runner

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: CuratorCompat HOST:PORT");
            System.exit(2);
        }
        connect = args[0];
        root = "/compat-curator-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, Check> checks = new LinkedHashMap<>();
        checks.put("crud_creatingParentsIfNeeded", CuratorCompat::crud);
        checks.put("creatingParentContainersIfNeeded_reaped", CuratorCompat::containerParents);
        checks.put("create_modes_ephemeral_seq_ttl_container_protected", CuratorCompat::modes);
        checks.put("acl_digest_authorization", CuratorCompat::acls);
        checks.put("transaction_forOperations", CuratorCompat::transaction);
        checks.put("InterProcessMutex", CuratorCompat::mutex);
        checks.put("InterProcessSemaphoreV2", CuratorCompat::semaphore);
        checks.put("LeaderLatch_two_participants", CuratorCompat::leaderLatch);
        checks.put("DistributedAtomicLong", CuratorCompat::atomicLong);
        checks.put("SharedCount", CuratorCompat::sharedCount);
        checks.put("CuratorCache_events", CuratorCompat::curatorCache);
        checks.put("PathChildrenCache_events", CuratorCompat::pathChildrenCache);
        checks.put("persistent_recursive_watch", CuratorCompat::persistentWatch);
        checks.put("PersistentNode_recreated", CuratorCompat::persistentNode);
        checks.put("PersistentTtlNode", CuratorCompat::persistentTtlNode);
        checks.put("negotiated_session_timeout", CuratorCompat::negotiatedSessionTimeout);

        int passed = 0, failed = 0;
        CuratorFramework admin = null;
        String setupError = null;
        try {
            admin = client();
            admin.create().forPath(root);
        } catch (Throwable t) {
            setupError = "cannot use server at " + connect + ": " + t;
        }
        ExecutorService ex = Executors.newCachedThreadPool(r -> { Thread t = new Thread(r); t.setDaemon(true); return t; });
        for (Map.Entry<String, Check> e : checks.entrySet()) {
            String why = setupError;
            if (why == null) {
                Future<?> f = ex.submit(() -> { e.getValue().run(); return null; });
                try {
                    f.get(60, TimeUnit.SECONDS);
                } catch (TimeoutException te) {
                    f.cancel(true);
                    why = "timed out after 60 s";
                } catch (java.util.concurrent.ExecutionException ee) {
                    Throwable c = ee.getCause();
                    why = c instanceof AssertionError ? c.getMessage() : c.toString();
                }
            }
            if (why == null) {
                passed++;
                System.out.println("PASS " + e.getKey());
            } else {
                failed++;
                System.out.println("FAIL " + e.getKey() + ": " + why);
            }
            System.out.flush();
            final CuratorFramework keep = admin;
            synchronized (clients) {
                for (CuratorFramework c : clients) if (c != keep) close(c);
                clients.removeIf(c -> c != keep);
            }
        }
        if (admin != null && setupError == null) {
            try {
                admin.delete().deletingChildrenIfNeeded().forPath(root);
            } catch (Exception ex2) {
                System.out.println("FAIL cleanup: " + ex2);
                failed++;
            }
        }
        close(admin);
        System.out.println("curator: " + passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
