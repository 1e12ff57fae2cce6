"""Records the AdminServer replies of the server at ZK_CONNECT / ZK_ADMIN into OUTDIR:
index.json (per request: method, path, HTTP status, Content-Type, the file holding the
body) and one file per body (NAME.json for JSON, NAME.txt otherwise).

    ZK_CONNECT=127.0.0.1:P ZK_ADMIN=127.0.0.1:A python3 capture.py OUTDIR"""
import json
import os
import sys

import adminlib

PREFIX = "/adm"


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    zk = adminlib.make_state(os.environ["ZK_CONNECT"], PREFIX)
    try:
        replies = adminlib.fetch_all(os.environ["ZK_ADMIN"])
    finally:
        zk.stop()
        zk.close()
    index = {}
    for name, r in replies.items():
        is_json = adminlib.as_json(r["body"]) is not None
        fname = name + (".json" if is_json else ".txt")
        with open(os.path.join(out, fname), "w", encoding="utf-8", newline="") as f:
            f.write(r["body"])
        index[name] = {"method": r["method"], "path": r["path"], "status": r["status"],
                       "content_type": r["content_type"], "file": fname}
    with open(os.path.join(out, "index.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    print(f"captured {len(index)} replies into {out}")


if __name__ == "__main__":
    main()
