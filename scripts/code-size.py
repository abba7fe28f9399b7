#!/usr/bin/env python3
"""Code size as issue 9 measures it: lines of every .rs file outside its
`#[cfg(test)] mod … { … }` blocks, per unit (src/ and each crate's src/), the
largest files of src/, and every function (tests included) longer than a
limit, found by its closing brace at the same indentation.

    python3 scripts/code-size.py [--limit 120] [ROOT]
"""
import glob
import os
import re
import sys


def non_test_lines(path):
    lines = open(path, encoding="utf-8").read().splitlines()
    kept, skipping = 0, False
    for i, line in enumerate(lines):
        if line.startswith("#[cfg(test)]") and i + 1 < len(lines) and lines[i + 1].startswith("mod "):
            skipping = True
            continue
        if skipping:
            if line == "}":
                skipping = False
            continue
        kept += 1
    return kept


def functions(path):
    lines = open(path, encoding="utf-8").read().splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)(pub(\([^)]*\))? )?(const )?(async )?(unsafe )?fn (\w+)", line)
        if not m:
            continue
        indent = m.group(1)
        for j in range(i + 1, len(lines)):
            if lines[j] == indent + "}":
                yield j - i + 1, m.group(7), i + 1
                break


def main():
    args = sys.argv[1:]
    limit = 120
    if args[:1] == ["--limit"]:
        limit = int(args[1])
        args = args[2:]
    root = args[0] if args else "."
    units = [("src", os.path.join(root, "src"))] + [
        (os.path.basename(c), os.path.join(c, "src")) for c in sorted(glob.glob(os.path.join(root, "crates", "*")))
    ]
    for name, directory in units:
        files = glob.glob(os.path.join(directory, "**", "*.rs"), recursive=True)
        print(f"{name:12} {sum(non_test_lines(f) for f in files):6} non-test lines")
    src = glob.glob(os.path.join(root, "src", "**", "*.rs"), recursive=True)
    for n, f in sorted(((non_test_lines(f), f) for f in src), reverse=True)[:3]:
        print(f"largest in src/: {n:4} {os.path.relpath(f, root)}")
    every = [
        f
        for pattern in ("src/**/*.rs", "crates/**/*.rs", "tests/**/*.rs")
        for f in glob.glob(os.path.join(root, pattern), recursive=True)
        if "/target/" not in f
    ]
    long = sorted(((n, os.path.relpath(f, root), name, line) for f in every for n, name, line in functions(f) if n > limit), reverse=True)
    for n, f, name, line in long:
        print(f"function over {limit} lines: {n:4} {f}:{line} {name}")
    if not long:
        print(f"no function over {limit} lines")


main()
