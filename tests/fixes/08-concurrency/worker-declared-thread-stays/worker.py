"""Declared so the Procfile has a worker; the previews still run in the web."""
import time

while True:
    time.sleep(60)
