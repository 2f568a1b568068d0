#!/usr/bin/env python3
"""The shape targets of issue 37, measured: files over 400 code lines and functions over 80
lines in the app and nerve-run (tests and generated code aside), at a git revision.

    python3 scripts/code_shape.py            # the working tree's HEAD
    python3 scripts/code_shape.py 56b7eb0    # another revision, to compare

Code lines are the non-blank lines that are not `//` comments, before a file's
`#[cfg(test)] mod tests`. A function runs from its `fn` line to the brace that closes it.
"""

import re
import subprocess
import sys

ROOTS = ["apps/nerve/src", "crates/nerve-run/src"]


def files(rev):
    out = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", rev, *ROOTS],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    for path in out:
        if path.endswith(".rs") and not path.endswith("tests.rs") and "/proto/" not in path:
            text = subprocess.run(
                ["git", "show", f"{rev}:{path}"], capture_output=True, text=True, check=True
            ).stdout
            cut = text.find("#[cfg(test)]\nmod tests")
            yield path, text[:cut] if cut >= 0 else text


def functions(text):
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"\s*(pub(\([a-z]+\))?\s+)?(async\s+)?fn\s+([a-z_0-9]+)", lines[i])
        if m and not lines[i].rstrip().endswith(";"):
            depth, started, j = 0, False, i
            while j < len(lines):
                depth += lines[j].count("{") - lines[j].count("}")
                started = started or "{" in lines[j]
                if started and depth <= 0:
                    break
                j += 1
            yield j - i + 1, m.group(4)
            i = j + 1
            continue
        i += 1


def main():
    rev = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    big_files, long_functions, total = [], [], 0
    for path, text in files(rev):
        code = sum(1 for l in text.split("\n") if l.strip() and not l.strip().startswith("//"))
        total += code
        if code > 400:
            big_files.append((code, path))
        long_functions += [(n, path, name) for n, name in functions(text) if n > 80]
    print(f"{rev}: {total} code lines; {len(big_files)} files over 400, {len(long_functions)} functions over 80")
    for code, path in sorted(big_files, reverse=True):
        print(f"  file {code:5} {path}")
    for n, path, name in sorted(long_functions, reverse=True):
        print(f"  fn   {n:5} {path} {name}")


if __name__ == "__main__":
    main()
