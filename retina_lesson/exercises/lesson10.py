"""Checks for the exercises of lesson 10 (filled in by that lesson)."""
__all__: list[str] = []
