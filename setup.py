"""The one thing pyproject.toml cannot say without an experimental table: the
optional C accelerators (mailfmt/_speedups.c, see CONTRIBUTING.md). Optional,
so an install without a compiler or Python's headers still works, in pure
Python."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("mailfmt._speedups", ["mailfmt/_speedups.c"], optional=True)])
