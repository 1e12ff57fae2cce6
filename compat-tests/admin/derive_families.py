"""Derives the Prometheus metric families of Java ZooKeeper 3.8.0 from its own /metrics,
captured by capture-metrics.sh (java-3.8.0/metrics.txt with exportJvmInfo at its default,
true, and metrics-nojvm.txt with exportJvmInfo=false). Writes prometheus-families.json:

    {name: {"type": TYPE line, "help": HELP line,
            "shapes": the sample shapes in order (None when the capture has no sample),
            "export_jvm_info": true when only exportJvmInfo=true serves the family}}

A sample's shape is its name suffix (after the family name) and its label names, with the
value of the quantile label spelled out, e.g. '{quantile="0.5"}', '_count', '_sum',
'{key,quantile="0.5"}', '_count{key}'; label values other than quantile are left out
(they name JVM pools, threads, namespaces). test_metrics.py computes the same shapes from
the server under test. adminlib.sample_shape is the one definition of a shape.

    python3 derive_families.py METRICS_TXT METRICS_NOJVM_TXT [OUT]"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import adminlib  # noqa: E402


def main():
    full, nojvm = sys.argv[1], sys.argv[2]
    out = sys.argv[3] if len(sys.argv) > 3 else os.path.join(HERE, "java-3.8.0",
                                                             "prometheus-families.json")
    with open(full, encoding="utf-8") as f:
        families = adminlib.parse_families(f.read())
    with open(nojvm, encoding="utf-8") as f:
        without = adminlib.parse_families(f.read())
    if not set(without) <= set(families):
        raise SystemExit(f"families served only without exportJvmInfo: {set(without) - set(families)}")
    result = {}
    for name in sorted(families):
        fam = families[name]
        shapes = []
        for sample_name, labels, _ in fam["samples"]:
            shape = adminlib.sample_shape(name, sample_name, labels)
            if shape not in shapes:
                shapes.append(shape)
        result[name] = {"type": fam["type"], "help": fam["help"], "shapes": shapes or None,
                        "export_jvm_info": name not in without}
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    jvm = sum(1 for v in result.values() if v["export_jvm_info"])
    print(f"{len(result)} families ({jvm} only with exportJvmInfo=true) into {out}")


if __name__ == "__main__":
    main()
