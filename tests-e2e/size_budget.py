#!/usr/bin/env python3
"""The widget's size budget: the loader (widget.js) under 5 KB gzipped, the whole chat UI (every file
of web/widget/: frame.html, its script and styles) under 30 KB gzipped. Sizes are gzip -9 of each
file, added up (each file travels on its own). Prints them; exits 1 over budget.

Usage: size_budget.py [WEB_DIR]   (default: Sources/ParleyHTTP/Resources/web)
"""
import gzip
import os
import sys

LOADER_BUDGET = 5_000
CHAT_BUDGET = 30_000


def gzipped(path):
    with open(path, "rb") as f:
        data = f.read()
    return len(data), len(gzip.compress(data, compresslevel=9, mtime=0))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    web = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "Sources", "ParleyHTTP", "Resources", "web")
    raw, loader = gzipped(os.path.join(web, "widget.js"))
    print(f"loader  widget.js           {raw:7,d} B raw  {loader:6,d} B gzipped  (budget {LOADER_BUDGET:,d})")
    folder = os.path.join(web, "widget")
    chat = 0
    for name in sorted(os.listdir(folder)):
        if not name.endswith((".html", ".js", ".css", ".svg")):
            continue
        raw, size = gzipped(os.path.join(folder, name))
        chat += size
        print(f"chat    widget/{name:<20} {raw:7,d} B raw  {size:6,d} B gzipped")
    print(f"chat UI total                              {chat:6,d} B gzipped  (budget {CHAT_BUDGET:,d})")
    failures = []
    if loader >= LOADER_BUDGET:
        failures.append(f"the loader is {loader} B gzipped, over {LOADER_BUDGET}")
    if chat >= CHAT_BUDGET:
        failures.append(f"the chat UI is {chat} B gzipped, over {CHAT_BUDGET}")
    for failure in failures:
        print(f"FAIL  {failure}")
    print(f"size-budget: {2 - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
