#!/usr/bin/env python3
"""Fails when a public header includes a private dependency (curl, fmt, RapidJSON)
or a private gauth header, so consumers' versions of those never clash with ours.
gauth/fmt.hpp is the one exception: the opt-in bridge that gives fmt users
formatters, built against their own fmt.

Usage: check_public_headers.py INCLUDE_DIR
"""
import pathlib
import re
import sys

FORBIDDEN = re.compile(r'#\s*include\s*[<"](curl/|fmt/|rapidjson/|private\.hpp|\.\./)')


def main() -> int:
    root = pathlib.Path(sys.argv[1])
    bad = []
    headers = sorted(p for p in root.rglob("*") if p.suffix in (".hpp", ".in") and p.name != "fmt.hpp")
    for header in headers:
        for number, line in enumerate(header.read_text().splitlines(), 1):
            if FORBIDDEN.search(line):
                bad.append(f"{header}:{number}: {line.strip()}")
    if bad:
        print("public headers include private dependencies:")
        print("\n".join(bad))
        return 1
    print(f"{len(headers)} public headers checked: no curl, fmt, RapidJSON or private includes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
