"""Checks for the exercises of lesson 04 (filled in by that lesson)."""
__all__: list[str] = []
