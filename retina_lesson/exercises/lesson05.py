"""Checks for the exercises of lesson 05 (filled in by that lesson)."""
__all__: list[str] = []
