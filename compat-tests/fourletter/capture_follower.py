#!/usr/bin/env python3
"""(Re)makes java-3.8.0-follower/: every four-letter word as a follower of a 3-member Java
ZooKeeper 3.8.0 ensemble answers it, with the same little state as java-3.8.0/ (fourlw.make_state,
made through that follower) and the words in the same order.

    python3 compat-tests/fourletter/capture_follower.py [OUTDIR]     (about 20 s)

The ensemble is compat-tests/ensemble/clients.py's (cluster.py, loopback, free ports,
tickTime=2000, the suites' member settings); every member is stopped at the end. The
follower is the lowest sid saying `Mode: follower`. These captures are what
test_fourletter.py compares with when FOURLW_CAPTURES names this directory, as
ensemble/clients.py does for the suites against an ensemble's follower."""
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "ensemble"))
import clients  # noqa: E402
import cluster  # noqa: E402
import fourlw  # noqa: E402


def main(argv):
    out = argv[0] if argv else os.path.join(HERE, "java-3.8.0-follower")
    run_dir = tempfile.mkdtemp(prefix="capture-follower.")
    cfg, props, env = clients.member_settings()
    c = cluster.Cluster(["java"] * 3, run_dir, tick=2000, extra_cfg=cfg, java_props=props,
                        fk_env=env)
    try:
        c.start()
        follower = clients.first_follower(c.wait_formed(90))
        if follower is None:
            print("capture_follower: no follower", file=sys.stderr)
            return 1
        replies = fourlw.capture_all(c.address(follower), "/fourlw")
    finally:
        c.stop_all()
        shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(out, exist_ok=True)
    for name, text in replies.items():
        with open(os.path.join(out, name + ".txt"), "w", encoding="utf-8", newline="") as f:
            f.write(text)
    print(f"captured {len(replies)} replies of follower server.{follower} into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
