"""All plotting of the course lives here (notebooks call these, never copy them).

``core`` holds the palette and the box-drawing primitives; each lesson's figures sit in a module of
their own and are re-exported below, so ``from retina_lesson import viz; viz.draw_boxes(...)`` works.
"""
from .core import *  # noqa: F401,F403
