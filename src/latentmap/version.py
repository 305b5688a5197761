"""The package version: one place, read by the build (pyproject's dynamic version) and the code."""

__version__ = "0.2.0"
