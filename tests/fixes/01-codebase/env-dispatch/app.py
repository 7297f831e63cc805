"""Runs the code of the environment named by APP_ENV."""
import os
import runpy

runpy.run_path(f"envs/{os.environ['APP_ENV']}.py", run_name="__main__")
