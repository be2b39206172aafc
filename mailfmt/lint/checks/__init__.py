"""The checks, one module per area."""

__all__: list[str] = []
