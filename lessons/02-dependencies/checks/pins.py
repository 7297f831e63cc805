"""Does every package line of requirements.txt pin exactly one version?

Usage: python3 pins.py requirements.txt   (from the app's folder)

`name==1.2.0` (any spacing, any case, `==1.2` too) pins one version, and so
do `>=V,<=V` with the same V. A bare name, a range (`<2`, `>=1.0`), `~=` or
a wildcard (`==1.*`) lets the install pick another version one day.
"""
import os
import re
import sys

NAME = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$")
SPEC = re.compile(r"^(===|==|!=|~=|>=|<=|<|>)\s*v?([0-9][0-9a-zA-Z.*+!-]*)$")


def version(v):
    parts = []
    for p in v.split("."):
        parts.append(int(p) if p.isdigit() else p)
    while parts and parts[-1] == 0:
        parts.pop()
    return parts


def judge(line):
    """None when the line pins one version, else what is wrong."""
    m = NAME.match(line)
    if not m:
        return "is not a package name with versions"
    rest = m.group(3).split(";")[0]          # environment markers
    rest = re.split(r"\s--hash[=\s]", " " + rest)[0].strip()
    if rest.startswith("@"):
        return "points at a URL, not at one version of the index"
    if not rest:
        return "names no version, so an install takes the newest"
    specs = []
    for part in rest.split(","):
        s = SPEC.match(part.strip())
        if not s:
            return f"has a version constraint this check cannot read: `{part.strip()}`"
        specs.append((s.group(1), s.group(2)))
    for op, v in specs:
        if op in ("==", "===") and "*" not in v:
            return None
    lows = {tuple(map(str, version(v))) for op, v in specs if op == ">="}
    highs = {tuple(map(str, version(v))) for op, v in specs if op == "<="}
    if lows & highs:
        return None
    shown = ",".join(op + v for op, v in specs)
    return f"allows more than one version ({shown})"


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "requirements.txt"
    if not os.path.isfile(path):
        sys.exit(f"NOT PINNED: there is no {path} next to the Procfile")
    bad, names, pins = [], {}, []
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, raw in enumerate(f, 1):
            line = re.split(r"(?:^|\s)#", raw.rstrip("\n"), maxsplit=1)[0].strip()
            if not line:
                continue
            if line.startswith("-"):
                bad.append(f"line {n}: `{line}` is an option, not a pinned package")
                continue
            problem = judge(line)
            if problem:
                bad.append(f"line {n}: `{line}` {problem}")
                continue
            name = re.sub(r"[-_.]+", "-", NAME.match(line).group(1)).lower()
            if name in names:
                bad.append(f"line {n}: `{line}` declares {name} again (line {names[name]})")
                continue
            names[name] = n
            pins.append(line)
    if bad:
        for b in bad:
            print(f"NOT PINNED: {path} {b}")
        sys.exit(1)
    print(f"OK: each package pins one version: {', '.join(pins) or 'none declared'}")


main()
