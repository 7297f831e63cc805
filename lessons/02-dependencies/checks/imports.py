"""Can Python find every module the app imports, with only what was installed?

Run isolated (no site-packages, PYTHONPATH = the folder the install step
filled), from the app's folder. Reads the import statements of every .py
file (the app's own modules and packages count as found, wherever they are
in the folder), and names each module Python cannot find. Imports guarded by
`try: ... except ImportError` are optional and left alone.
"""
import ast
import importlib.util
import os
import sys

OPTIONAL = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def guarded(handlers):
    for h in handlers:
        if h.type is None:
            return True
        names = h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
        for n in names:
            if isinstance(n, ast.Name) and n.id in OPTIONAL:
                return True
            if isinstance(n, ast.Attribute) and n.attr in OPTIONAL:
                return True
    return False


def imports(tree):
    """(line, top-level module name) of each import not guarded by a try."""
    out = []

    def visit(node, optional):
        if isinstance(node, ast.Try) and guarded(node.handlers):
            for child in node.body:
                visit(child, True)
            for part in (node.handlers, node.orelse, node.finalbody):
                for child in part:
                    visit(child, optional)
            return
        if not optional:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    out.append((node.lineno, alias.name.split(".")[0]))
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                out.append((node.lineno, node.module.split(".")[0]))
        for child in ast.iter_child_nodes(node):
            visit(child, optional)

    visit(tree, False)
    return out


def main():
    root = os.getcwd()
    sources, local = [], set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                sources.append(path)
                local.add(name[:-3])
                if name == "__init__.py":
                    local.add(os.path.basename(folder))
    sys.path[:0] = [root]
    missing, seen = [], set()
    for path in sorted(sources):
        rel = os.path.relpath(path, root)
        try:
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read(), rel)
        except (SyntaxError, ValueError, OSError) as exc:
            print(f"{rel}: cannot read it as Python: {exc}")
            continue
        for line, name in imports(tree):
            if name in local or name in seen or name == "__future__":
                continue
            seen.add(name)
            try:
                found = importlib.util.find_spec(name) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                missing.append(f"{rel}:{line} imports {name}")
    if missing:
        for m in missing:
            print(f"MISSING: {m}, which is neither in Python's standard "
                  f"library, nor in the app's files, nor among the packages "
                  f"requirements.txt installed")
        sys.exit(1)
    print(f"OK: every module the code imports is found ({', '.join(sorted(seen))})")


main()
