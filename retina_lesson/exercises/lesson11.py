"""Checks for the exercises of lesson 11 (filled in by that lesson)."""
__all__: list[str] = []
