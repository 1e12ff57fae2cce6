// Driver that produced zk_scenario.txt (only the part before the "digest(" line is used).
// Run against the real ZooKeeper DataTree from Debian's libzookeeper-java (3.8.0):
//   J=/usr/share/java; CP=$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar:$J/slf4j-nop.jar:$J/findbugs-annotations.jar:$J/metrics-core.jar:$J/netty-all.jar
//   mkdir -p /tmp/h/org/apache/zookeeper/server && cp Harness.java /tmp/h/org/apache/zookeeper/server/
//   cd /tmp/h && javac -cp $CP org/apache/zookeeper/server/Harness.java && java -cp .:$CP org.apache.zookeeper.server.Harness
// Written for FerroKeeper; it only calls ZooKeeper's public/package API.
package org.apache.zookeeper.server;

import java.util.*;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.*;
import org.apache.zookeeper.common.PathUtils;

public class Harness {
    static DataTree dt;
    static void dump(String tag) {
        System.out.println("== " + tag + " digest=" + dt.getTreeDigest() + " approx=" + dt.cachedApproximateDataSize()
            + " recomputed=" + dt.approximateDataSize() + " count=" + dt.getNodeCount()
            + " all(/)=" + dt.getAllChildrenNumber("/") + " all(/a)=" + dt.getAllChildrenNumber("/a")
            + " eph=" + dt.getEphemeralsCount() + " sessions=" + new TreeSet<>(dt.getSessions())
            + " containers=" + new TreeSet<>(dt.getContainers()) + " ttls=" + new TreeSet<>(dt.getTtls()));
        walk("/");
    }
    static void walk(String path) {
        DataNode n = dt.getNode(path);
        Stat s = new Stat();
        n.copyStat(s);
        StatPersisted p = n.stat;
        byte[] d = n.getData();
        System.out.println(path + " data=" + (d == null ? "null" : "'" + new String(d) + "'") + " acl=" + n.acl
            + " P[" + p.getCzxid() + "," + p.getMzxid() + "," + p.getCtime() + "," + p.getMtime() + "," + p.getVersion()
            + "," + p.getCversion() + "," + p.getAversion() + "," + p.getEphemeralOwner() + "," + p.getPzxid() + "]"
            + " S[" + s.getCversion() + "," + s.getEphemeralOwner() + "," + s.getDataLength() + "," + s.getNumChildren() + "]");
        List<String> kids = new ArrayList<>(n.getChildren());
        Collections.sort(kids);
        for (String k : kids) walk(path.equals("/") ? "/" + k : path + "/" + k);
    }
    static void tryRun(String what, Runnable r) {
        try { r.run(); System.out.println(what + ": ok"); } catch (Exception e) { System.out.println(what + ": " + e.getClass().getSimpleName()); }
    }
    interface Op { void run() throws Exception; }
    static void op(String what, Op r) {
        try { r.run(); System.out.println(what + ": ok"); } catch (Exception e) { System.out.println(what + ": " + e.getClass().getSimpleName()); }
    }
    public static void main(String[] args) throws Exception {
        dt = new DataTree();
        dump("fresh");
        List<ACL> open = ZooDefs.Ids.OPEN_ACL_UNSAFE, read = ZooDefs.Ids.READ_ACL_UNSAFE;
        op("create /a", () -> dt.createNode("/a", "hello".getBytes(), open, 0, -1, 10, 1000));
        op("create /a/b", () -> dt.createNode("/a/b", null, open, 0, -1, 11, 1001));
        op("create /a/c", () -> dt.createNode("/a/c", new byte[0], open, 0x100, -1, 12, 1002));
        op("create /a/d", () -> dt.createNode("/a/d", "x".getBytes(), read, Long.MIN_VALUE, 5, 13, 1003));
        op("create /a/e", () -> dt.createNode("/a/e", "yy".getBytes(), open, 0x200, 2, 14, 1004));
        op("create /a/e again", () -> dt.createNode("/a/e", "zz".getBytes(), open, 0, -1, 15, 1005));
        op("create /nope/x", () -> dt.createNode("/nope/x", null, open, 0, -1, 15, 1005));
        dump("after creates");
        op("delete /a/b", () -> dt.deleteNode("/a/b", 16));
        op("delete /a/zz", () -> dt.deleteNode("/a/zz", 17));
        op("delete /a/e old zxid", () -> dt.deleteNode("/a/e", 3));
        op("setData /a", () -> dt.setData("/a", "world!".getBytes(), 1, 18, 2000));
        op("setData /a/d null", () -> dt.setData("/a/d", null, 7, 19, 2001));
        op("setACL /a", () -> dt.setACL("/a", read, 1));
        op("setCversionPzxid /a/", () -> dt.setCversionPzxid("/a/", -1, 20));
        op("setCversionPzxid /a low", () -> dt.setCversionPzxid("/a", 1, 21));
        dump("after mutations");
        op("killSession 0x100", () -> dt.killSession(0x100, 22));
        op("create /q1", () -> dt.createNode("/zookeeper/quota/a", null, open, 0, -1, 24, 1007));
        op("create limits", () -> dt.createNode("/zookeeper/quota/a/zookeeper_limits", "count=10,bytes=-1".getBytes(), open, 0, -1, 25, 1008));
        op("create stats", () -> dt.createNode("/zookeeper/quota/a/zookeeper_stats", "count=0,bytes=0".getBytes(), open, 0, -1, 26, 1009));
        op("create /a/f", () -> dt.createNode("/a/f", "12345".getBytes(), open, 0, -1, 27, 1010));
        op("setData /a/d", () -> dt.setData("/a/d", "abc".getBytes(), 8, 28, 2002));
        op("delete /a/f", () -> dt.deleteNode("/a/f", 29));
        op("setData /zookeeper/config", () -> dt.setData("/zookeeper/config", "server.1=x".getBytes(), -1, 30, 2003));
        op("setData /zookeeper", () -> dt.setData("/zookeeper", "p".getBytes(), 1, 31, 2004));
        op("setData /", () -> dt.setData("/", "root".getBytes(), 1, 32, 2005));
        dump("after quota");
        op("delete limits", () -> dt.deleteNode("/zookeeper/quota/a/zookeeper_limits", 33));
        op("create /a/g", () -> dt.createNode("/a/g", "1".getBytes(), open, 0, -1, 34, 1011));
        dump("end");
        System.out.println("digest(/a,'x',stat)=" + new DigestCalculator().calculateDigest("/a", "x".getBytes(), DataTree.createStat(5, 6, 7)));
        System.out.println("digest(/,null,zero)=" + new DigestCalculator().calculateDigest("/", null, new StatPersisted()));
        System.out.println("fmt=" + String.format(Locale.ENGLISH, "%010d", -5) + " " + String.format(Locale.ENGLISH, "%010d", Integer.MIN_VALUE) + " " + String.format(Locale.ENGLISH, "%010d", 42));
        String[] paths = {"", "a", "/", "//", "/a/", "/a", "/a//b", "/.", "/..", "/...", "/a/.", "/a/..", "/a/./b", "/a/../b", "/.a", "/a.", "/..a", "/a\u0000b",
            "/a\u0001", "/\u001f", "/ ", "/\u007f", "/\u009f", "/\u00a0", "/\u00fc", "/\ud7ff", "/\ue000", "/\uf8ff", "/\uf900", "/\uffef", "/\ufff0", "/\uffff",
            "/\ud83d\ude00", "/\u00e9/.", "/\u00e9\u00e9//", "/zookeeper/quota"};
        for (String p : paths) {
            String esc = p.chars().mapToObj(c -> c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format("\\u%04x", c)).reduce("", String::concat);
            try { PathUtils.validatePath(p); System.out.println("path[" + esc + "] ok"); }
            catch (IllegalArgumentException e) {
                String m = e.getMessage().chars().mapToObj(c -> c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format("\\u%04x", c)).reduce("", String::concat);
                System.out.println("path[" + esc + "] " + m);
            }
        }
        try { PathUtils.validatePath("/a/", true); System.out.println("seq /a/ ok"); } catch (IllegalArgumentException e) { System.out.println("seq /a/ " + e.getMessage()); }
        try { PathUtils.validatePath(null, true); System.out.println("seq null ok"); } catch (IllegalArgumentException e) { System.out.println("seq null " + e.getMessage()); }
        try { PathUtils.validatePath(null); } catch (IllegalArgumentException e) { System.out.println("null " + e.getMessage()); }
        System.out.println("ttl1000=" + Long.toHexString(EphemeralType.TTL.toEphemeralOwner(1000)) + " max=" + EphemeralType.TTL.maxValue());
        try { EphemeralType.TTL.toEphemeralOwner(0); } catch (IllegalArgumentException e) { System.out.println("ttl0 " + e.getMessage()); }
        try { EphemeralType.validateTTL(org.apache.zookeeper.CreateMode.PERSISTENT, 0); } catch (IllegalArgumentException e) { System.out.println("vt " + e.getMessage()); }
        org.apache.zookeeper.StatsTrack st = new org.apache.zookeeper.StatsTrack("count=1,bytes=2=;zeta=9;countHardLimit=5");
        System.out.println("statstrack=" + st);
    }
}
