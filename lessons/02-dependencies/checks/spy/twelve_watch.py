"""The no-system-tools check's watcher: it reports on stderr every program
the service starts. It changes nothing: the program still runs.

Python loads it at start-up through sitecustomize.py (on PYTHONPATH); with
`python3 -S`, which skips sitecustomize, the stand-in packages in shims/
load it when the app imports them. Installed once either way.
"""
import os
import sys

_ME = os.path.realpath(sys.executable)


def _show(args):
    if isinstance(args, (bytes, str, os.PathLike)):
        return os.fsdecode(args)
    try:
        return " ".join(os.fsdecode(a) for a in args)
    except TypeError:
        return repr(args)


def _is_python(path):
    try:
        return path is not None and os.path.realpath(os.fsdecode(path)) == _ME
    except (TypeError, ValueError):
        return False


def _hook(event, args):
    ran = None
    if event == "subprocess.Popen":
        executable, argv = args[0], args[1]
        first = argv if isinstance(argv, (str, bytes)) else (argv[0] if argv else None)
        if not (_is_python(executable) or (not isinstance(argv, (str, bytes))
                                            and _is_python(first))):
            ran = _show(argv)
    elif event == "os.system":
        ran = _show(args[0])
    elif event in ("os.exec", "os.posix_spawn"):
        if not _is_python(args[0]):
            ran = _show(args[1])
    elif event == "os.spawn":
        if not _is_python(args[1]):
            ran = _show(args[2])
    if ran is not None:
        sys.stderr.write(f"twelve-watch: the service ran a program ({event}): {ran}\n")
        sys.stderr.flush()


if not getattr(sys, "_twelve_watching", False):
    sys._twelve_watching = True
    sys.addaudithook(_hook)
    sys.stderr.write("twelve-watch: watching for programs the service runs\n")
    sys.stderr.flush()
