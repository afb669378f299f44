"""Baseline for bench/project.sh: the same discovery in Python with PyYAML (LibYAML-backed
CSafeLoader when available): load template.yaml, merge Globals.Function, resolve CodeUri,
find each handler's file and the line of its def. Usage: project_baseline.py DIR [N]."""
import os
import re
import statistics
import sys
import time

import yaml

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Tagged:
    def __init__(self, tag, value):
        self.tag, self.value = tag, value


def construct_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        v = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        v = loader.construct_sequence(node)
    else:
        v = loader.construct_mapping(node)
    return Tagged(suffix, v)


Loader.add_multi_constructor("!", construct_tag)


def discover(d):
    with open(os.path.join(d, "template.yaml"), encoding="utf-8") as f:
        t = yaml.load(f, Loader=Loader)
    g = ((t.get("Globals") or {}).get("Function")) or {}
    out = []
    for name, res in (t.get("Resources") or {}).items():
        if not isinstance(res, dict) or res.get("Type") != "AWS::Serverless::Function":
            continue
        p = res.get("Properties") or {}
        get = lambda k: p.get(k, g.get(k))
        env = dict(((g.get("Environment") or {}).get("Variables")) or {})
        env.update(((p.get("Environment") or {}).get("Variables")) or {})
        layers = list(g.get("Layers") or []) + list(p.get("Layers") or [])
        code = os.path.normpath(os.path.join(d, get("CodeUri") or "."))
        handler = get("Handler")
        mod, _, fn = handler.rpartition(".")
        path = os.path.join(code, mod.replace(".", "/") + ".py")
        line = 0
        if os.path.isfile(path):
            pat = re.compile(r"^(async\s+)?def\s+" + re.escape(fn) + r"\b")
            with open(path, encoding="utf-8") as src:
                for i, l in enumerate(src, 1):
                    if pat.match(l):
                        line = i
                        break
        out.append((name, get("Runtime"), code, path, line, env, layers))
    return out


def main():
    d, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 50
    times = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        fns = discover(d)
        times.append(time.perf_counter_ns() - t0)
    times.sort()
    print("functions=%d iterations=%d median_ms=%.3f min_ms=%.3f p90_ms=%.3f loader=%s" % (
        len(fns), n, statistics.median(times) / 1e6, times[0] / 1e6,
        times[(n * 9) // 10] / 1e6, Loader.__name__))


if __name__ == "__main__":
    main()
