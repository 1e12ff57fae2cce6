import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * One Java ZooKeeper client (Debian's 3.8.0 jar) connected to ONE member, doing what
 * history.py's Kazoo Worker does: set of a unique value to /lin/kN, sync then get of /lin/kN
 * (one read from the sync's invoke to the get's reply), and every tenth operation a create under
 * /ack. It runs until its stdin closes (the driver's stop) or maxOps.
 *
 * Output, one line per operation, tab-separated:
 *   op  key  value  invokeNanos  completeNanos  outcome  error
 * value is "\N" for a read of nothing; times are System.nanoTime(), which on Linux is
 * CLOCK_MONOTONIC, the clock of Python's time.monotonic(): the driver merges these lines into
 * the same history as its Kazoo clients'. State changes are lines "state  NAME  nanos".
 *
 * A connection loss or session expiry while an operation is in flight makes a write or create
 * "unknown" and a read "fail"; while disconnected the loop waits (in slices, watching stdin) and
 * after an expiry it opens a new session, as Kazoo does.
 *
 * usage: EnsembleWorker HOST:PORT PROCESS SEED
 */
public final class EnsembleWorker {
    private static final String[] KEYS = {"/lin/k0", "/lin/k1", "/lin/k2", "/lin/k3", "/lin/k4"};
    private static final int SESSION_MS = 4000;
    private static final int MAX_OPS = 20000;
    private static final int ACK_EVERY = 10;

    private static volatile boolean stop;
    private static final Object LOCK = new Object();
    private static boolean connected;
    private static boolean expired;
    private static PrintStream out;

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: EnsembleWorker HOST:PORT PROCESS SEED");
            System.exit(2);
        }
        String address = args[0];
        String process = args[1];
        Random rng = new Random(Long.parseLong(args[2]));
        out = new PrintStream(System.out, false, StandardCharsets.UTF_8.name());
        Thread stdinWatch = new Thread(() -> {
            try {
                while (System.in.read() != -1) {
                    // the driver writes nothing; end of input is the stop
                }
            } catch (IOException e) {
                // a closed pipe is a stop too
            }
            stop = true;
            synchronized (LOCK) {
                LOCK.notifyAll();
            }
        }, "stdin-watch");
        stdinWatch.setDaemon(true);
        stdinWatch.start();

        ZooKeeper zk = null;
        int counter = 0;
        try {
            for (int i = 0; i < MAX_OPS && !stop; i++) {
                if (zk == null || expiredNow()) {
                    if (zk != null) {
                        zk.close();
                    }
                    synchronized (LOCK) {
                        connected = false;
                        expired = false;
                    }
                    zk = new ZooKeeper(address, SESSION_MS, EnsembleWorker::onEvent);
                }
                if (!awaitConnected()) {
                    i--; // nothing was invoked
                    continue;
                }
                String key = KEYS[rng.nextInt(KEYS.length)];
                if (i % ACK_EVERY == ACK_EVERY - 1) {
                    create(zk, "/ack/" + process + "-" + counter++);
                } else if (rng.nextDouble() < 0.5) {
                    write(zk, key, process + "-" + counter++);
                } else {
                    read(zk, key);
                }
                Thread.sleep(5);
            }
        } finally {
            if (zk != null) {
                zk.close();
            }
            out.flush();
        }
    }

    private static void onEvent(WatchedEvent e) {
        if (e.getType() != Watcher.Event.EventType.None) {
            return;
        }
        Watcher.Event.KeeperState s = e.getState();
        synchronized (LOCK) {
            connected = s == Watcher.Event.KeeperState.SyncConnected;
            if (s == Watcher.Event.KeeperState.Expired) {
                expired = true;
            }
            out.println("state\t" + s + "\t" + System.nanoTime());
            out.flush();
            LOCK.notifyAll();
        }
    }

    private static boolean expiredNow() {
        synchronized (LOCK) {
            return expired;
        }
    }

    /** Waits up to 0.2 s for the session to be connected; false if not (or expired, or stop). */
    private static boolean awaitConnected() throws InterruptedException {
        synchronized (LOCK) {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
            while (!connected && !expired && !stop) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                TimeUnit.NANOSECONDS.timedWait(LOCK, left);
            }
            return connected && !expired && !stop;
        }
    }

    private static String errorName(KeeperException e) {
        switch (e.code()) {
            case CONNECTIONLOSS:
                return "ConnectionLoss";
            case SESSIONEXPIRED:
                return "SessionExpiredError";
            case OPERATIONTIMEOUT:
                return "OperationTimeoutError";
            default:
                return "Java" + e.code();
        }
    }

    private static void record(String op, String key, String value, long invoke, String outcome,
                               String error) {
        long complete = System.nanoTime();
        synchronized (LOCK) {
            out.println(op + "\t" + key + "\t" + (value == null ? "\\N" : value) + "\t" + invoke
                    + "\t" + complete + "\t" + outcome + "\t" + error);
            out.flush();
        }
    }

    private static void write(ZooKeeper zk, String key, String value) throws InterruptedException {
        long invoke = System.nanoTime();
        try {
            zk.setData(key, value.getBytes(StandardCharsets.UTF_8), -1);
            record("write", key, value, invoke, "ok", "");
        } catch (KeeperException e) {
            record("write", key, value, invoke, "unknown", errorName(e));
        }
    }

    private static void create(ZooKeeper zk, String path) throws InterruptedException {
        long invoke = System.nanoTime();
        try {
            zk.create(path, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            record("create", path, "", invoke, "ok", "");
        } catch (KeeperException e) {
            record("create", path, "", invoke, "unknown", errorName(e));
        }
    }

    private static void read(ZooKeeper zk, String key) throws InterruptedException {
        long invoke = System.nanoTime();
        final int[] rc = {Integer.MIN_VALUE};
        Object done = new Object();
        zk.sync(key, (code, path, ctx) -> {
            synchronized (done) {
                rc[0] = code;
                done.notifyAll();
            }
        }, null);
        synchronized (done) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (rc[0] == Integer.MIN_VALUE) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    record("read", key, null, invoke, "fail", "OperationTimeoutError");
                    return;
                }
                TimeUnit.NANOSECONDS.timedWait(done, left);
            }
        }
        if (rc[0] != KeeperException.Code.OK.intValue()) {
            record("read", key, null, invoke, "fail",
                    errorName(KeeperException.create(KeeperException.Code.get(rc[0]))));
            return;
        }
        try {
            byte[] data = zk.getData(key, false, null);
            record("read", key, data == null ? null : new String(data, StandardCharsets.UTF_8),
                    invoke, "ok", "");
        } catch (KeeperException e) {
            record("read", key, null, invoke, "fail", errorName(e));
        }
    }
}
