"""Loads the no-system-tools check's watcher when Python starts."""
import twelve_watch  # noqa: F401
