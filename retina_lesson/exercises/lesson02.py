"""Checks for the exercises of lesson 02 (filled in by that lesson)."""
__all__: list[str] = []
