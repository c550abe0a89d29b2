"""Checks for the course's exercises: ``check_<name>(my_fn)`` for every coding exercise.

Each lesson's exercises have their checks in ``lesson<NN>.py``; they are all importable from here::

    from retina_lesson.exercises import check_box_iou
    check_box_iou(my_box_iou)      # "box_iou: 14 cases agree", or the first failing case

A check passes the package's own function, raises ``AssertionError`` naming the first failing
case of a wrong one (input, expected, received, a hint for a known mistake), and only prints
"not done yet" while the function still raises ``NotImplementedError``.
"""
from ._core import Case, Mistake, Verdict, agree, run_check, show  # noqa: F401
from .lesson01 import *  # noqa: F401,F403
from .lesson02 import *  # noqa: F401,F403
from .lesson03 import *  # noqa: F401,F403
from .lesson04 import *  # noqa: F401,F403
from .lesson05 import *  # noqa: F401,F403
from .lesson06 import *  # noqa: F401,F403
from .lesson07 import *  # noqa: F401,F403
from .lesson08 import *  # noqa: F401,F403
from .lesson09 import *  # noqa: F401,F403
from .lesson10 import *  # noqa: F401,F403
from .lesson11 import *  # noqa: F401,F403
from .lesson12 import *  # noqa: F401,F403
from .lesson13 import *  # noqa: F401,F403
