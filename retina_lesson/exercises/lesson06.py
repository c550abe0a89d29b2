"""Checks for the exercises of lesson 06 (filled in by that lesson)."""
__all__: list[str] = []
