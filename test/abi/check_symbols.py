#!/usr/bin/env python3
"""Fails when a shared library exports a symbol outside its namespace (HarfBuzz-style ABI test).

Usage: check_symbols.py LIBRARY [NAMESPACE]   (NAMESPACE defaults to "gauth::")
Exit 77 (Meson's "skipped") when nm is not available.
"""
import re
import shutil
import subprocess
import sys

def allowed_pattern(namespace: str) -> "re.Pattern[str]":
    ns = re.escape(namespace)
    return re.compile(
        rf"^({ns}|typeinfo for {ns}|typeinfo name for {ns}|vtable for {ns}|"
        rf"non-virtual thunk to {ns}|GAUTH_[A-Z_]*\d+$)"
    )


def main() -> int:
    library = sys.argv[1]
    namespace = sys.argv[2] if len(sys.argv) > 2 else "gauth::"
    allowed = allowed_pattern(namespace)
    nm = shutil.which("nm")
    if nm is None:
        print("nm not found; skipping")
        return 77
    out = subprocess.run([nm, "-D", "--defined-only", "-C", library],
                         check=True, capture_output=True, text=True).stdout
    exported, stray = 0, []
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) < 3:
            continue
        name = parts[2]
        exported += 1
        if not allowed.match(name):
            stray.append(name)
    if stray:
        print(f"{library} exports {len(stray)} symbol(s) outside {namespace}:")
        for name in stray:
            print("  " + name)
        return 1
    if exported == 0:
        print(f"{library} exports nothing: is the version script wrong?")
        return 1
    print(f"{library}: {exported} exported symbols, all in {namespace}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
