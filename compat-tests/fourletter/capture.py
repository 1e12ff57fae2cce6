#!/usr/bin/env python3
"""Captures four-letter-word replies from the server at ZK_CONNECT into a directory, one
file per word (<word>.txt, the exact bytes received).

    ZK_CONNECT=127.0.0.1:PORT capture.py DIR              every word in fourlw.WORDS, with
                                                          the state of fourlw.make_state
    ZK_CONNECT=127.0.0.1:PORT capture.py --refused DIR    on a server with the default
                                                          whitelist: refused-<word>.txt for
                                                          a few words that are not enabled

capture.sh runs both against Debian's Java ZooKeeper 3.8.0 to make java-3.8.0/."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fourlw  # noqa: E402

REFUSED_WORDS = ["stat", "ruok", "mntr"]


def main(argv):
    refused = "--refused" in argv
    args = [a for a in argv if a != "--refused"]
    if len(args) != 1 or not os.environ.get("ZK_CONNECT"):
        print(__doc__, file=sys.stderr)
        return 2
    out = args[0]
    os.makedirs(out, exist_ok=True)
    connect = os.environ["ZK_CONNECT"]
    if refused:
        replies = {"refused-" + w: fourlw.send_word(connect, w) for w in REFUSED_WORDS}
        # srvr is always enabled, whatever the whitelist says
        replies["default-srvr"] = fourlw.send_word(connect, "srvr")
    else:
        replies = fourlw.capture_all(connect, "/fourlw")
    for name, text in replies.items():
        with open(os.path.join(out, name + ".txt"), "w", encoding="utf-8", newline="") as f:
            f.write(text)
    print(f"captured {len(replies)} replies into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
