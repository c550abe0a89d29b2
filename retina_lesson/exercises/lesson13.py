"""Checks for the exercises of lesson 13 (filled in by that lesson)."""
__all__: list[str] = []
