"""The linter: any .eml in, every violation out with rule, severity and place."""

from .engine import LintConfig, lint, lint_file
from .violation import Report, Violation

__all__ = ["LintConfig", "Report", "Violation", "lint", "lint_file"]
