"""Create or remove the service's store (a file) for the readiness check."""
import os
import sys

action, path = sys.argv[1], sys.argv[2]
if action == "create":
    with open(path, "w") as f:
        f.write("store\n")
else:
    os.remove(path)
