"""Loads a function's handler module by path (both functions have an app.py)."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(code_dir, module="app"):
    path = os.path.join(ROOT, code_dir, module + ".py")
    spec = importlib.util.spec_from_file_location(f"{code_dir}_{module}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
