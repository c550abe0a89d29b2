"""Checks for the exercises of lesson 12 (filled in by that lesson)."""
__all__: list[str] = []
