"""Checks that every module includes only the modules it may depend on, so the
dependency table of the README (every edge points down) stays true. Test files
(*_test.cc), fuzzers and benchmarks are exempt; unknown modules fail the check
so that a new module gets its row here."""

import os
import re
import sys

# module -> modules it may include (besides itself).
ALLOWED = {
    "daemon/util": set(),
    "daemon/model": {"daemon/util"},
    "daemon/config": {"daemon/model", "daemon/util"},
    "daemon/net": {"daemon/util"},
    "daemon/store": {"daemon/model", "daemon/util"},
    "daemon/promql": {"daemon/store", "daemon/model", "daemon/util"},
    "daemon/template": {"daemon/model", "daemon/util"},
    "daemon/ruler": {"daemon/promql", "daemon/template", "daemon/store", "daemon/config",
                     "daemon/model", "daemon/util"},
    "daemon/notify": {"daemon/net", "daemon/config", "daemon/model", "daemon/util",
                      "exporters/common", "daemon/ruler"},
    "daemon/web": {"daemon/util"},
    "exporters/common": {"daemon/config", "daemon/net", "daemon/model", "daemon/util"},
    "exporters/scrape": {"daemon/model", "daemon/util"},
    "exporters/http": {"exporters/common", "daemon/net", "daemon/config", "daemon/model",
                       "daemon/util"},
    "exporters/postgres": {"exporters/common", "daemon/config", "daemon/model", "daemon/util"},
    "exporters/redis": {"exporters/common", "daemon/config", "daemon/model", "daemon/util"},
    "exporters/kubernetes": {"exporters/common", "daemon/net", "daemon/config", "daemon/model",
                             "daemon/util"},
    "daemon/scheduler": {"exporters/common", "exporters/scrape", "daemon/net", "daemon/config",
                         "daemon/model", "daemon/util"},
    "daemon/app": None,  # wires everything
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"((?:daemon|exporters)/[^/"]+)/')


def module_of(path):
    parts = path.split(os.sep)
    return "/".join(parts[:2]) if len(parts) >= 3 else None


def exempt(path):
    name = os.path.basename(path)
    return (name.endswith("_test.cc") or "/fuzz/" in path or "/testing/" in path
            or name.startswith("test_"))


def main(root):
    problems = []
    for top in ("daemon", "exporters"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                if not name.endswith((".h", ".cc")):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), root)
                if exempt(path):
                    continue
                module = module_of(path)
                if module not in ALLOWED:
                    problems.append(f"{path}: module {module} has no row in {__file__}")
                    continue
                allowed = ALLOWED[module]
                if allowed is None:
                    continue
                with open(os.path.join(root, path), errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if m and m.group(1) != module and m.group(1) not in allowed:
                            problems.append(f"{path}:{lineno}: {module} must not include "
                                            f"{m.group(1)}")
    for p in problems:
        print(p)
    print(f"{0 if problems else 1} passed, {1 if problems else 0} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
