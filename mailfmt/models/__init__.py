"""The models: addresses, header fields, body parts and whole messages."""

__all__: list[str] = []
