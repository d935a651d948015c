#!/usr/bin/env python3
"""Fails when libgauth.so exports a symbol outside gauth's namespace (HarfBuzz-style ABI test).

Usage: check_symbols.py LIBRARY
Exit 77 (Meson's "skipped") when nm is not available.
"""
import re
import shutil
import subprocess
import sys

ALLOWED = re.compile(
    r"^(gauth::|typeinfo for gauth::|typeinfo name for gauth::|vtable for gauth::|"
    r"non-virtual thunk to gauth::|GAUTH_\d+$)"
)


def main() -> int:
    library = sys.argv[1]
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
        if not ALLOWED.match(name):
            stray.append(name)
    if stray:
        print(f"{library} exports {len(stray)} symbol(s) outside gauth's namespace:")
        for name in stray:
            print("  " + name)
        return 1
    if exported == 0:
        print(f"{library} exports nothing: is the version script wrong?")
        return 1
    print(f"{library}: {exported} exported symbols, all in gauth's namespace")
    return 0


if __name__ == "__main__":
    sys.exit(main())
