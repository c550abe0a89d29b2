"""Checks for the exercises of lesson 08 (filled in by that lesson)."""
__all__: list[str] = []
