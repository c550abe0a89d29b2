"""Checks for the exercises of lesson 09 (filled in by that lesson)."""
__all__: list[str] = []
