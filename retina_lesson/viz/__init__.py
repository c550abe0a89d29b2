"""All plotting of the course lives here (notebooks call these, never copy them).

``core`` holds the palette and the box-drawing primitives; each lesson's figures sit in a module of
their own and are re-exported below, so ``from retina_lesson import viz; viz.draw_boxes(...)`` works.
"""
from .core import *  # noqa: F401,F403
from .lesson_intro import *  # noqa
from .lesson_boxes import *  # noqa
from .lesson_anchors import *  # noqa
from .lesson_data import *  # noqa
from .lesson_matching import *  # noqa
from .lesson_coding import *  # noqa
from .lesson_focal import *  # noqa
from .lesson_training import *  # noqa
from .lesson_network import *  # noqa
from .lesson_inference import *  # noqa
from .lesson_debug import *  # noqa
from .lesson_debug_explorer import *  # noqa
from .lesson_evaluation import *  # noqa
from .lesson_ablation import *  # noqa
