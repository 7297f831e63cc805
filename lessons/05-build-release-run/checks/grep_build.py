"""Exit 1 when any file under a folder holds one of the given values.

    python3 grep_build.py FOLDER VALUE...

Prints each (file, value) found, so the learner sees where config leaked.
"""
import os
import sys

folder, values = sys.argv[1], sys.argv[2:]
if not os.path.isdir(folder):
    sys.exit(f"no folder {folder}: the build made nothing")
found = []
for root, dirs, files in os.walk(folder):
    dirs[:] = [d for d in dirs if d != "__pycache__"]
    for name in sorted(files):
        path = os.path.join(root, name)
        with open(path, "rb") as f:
            data = f.read()
        for value in values:
            if value.encode() in data:
                rel = os.path.relpath(path, folder)
                found.append(f"{rel} holds {value}")
for line in found:
    print(line)
sys.exit(1 if found else 0)
