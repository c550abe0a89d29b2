"""Checks for the exercises of lesson 07 (filled in by that lesson)."""
__all__: list[str] = []
