"""Registered tasks. Every module in this package is imported, so adding a file registers it."""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
