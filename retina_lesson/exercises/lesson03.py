"""Checks for the exercises of lesson 03 (filled in by that lesson)."""
__all__: list[str] = []
