"""The one thing pyproject.toml cannot say without an experimental table: the
optional C accelerator of the line scanner (mailfmt/lint/_scan.py). Optional,
so an install without a compiler or Python's headers still works, in pure
Python."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("mailfmt._speedups", ["mailfmt/_speedups.c"], optional=True)])
