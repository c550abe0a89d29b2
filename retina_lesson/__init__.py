"""retina_lesson: RetinaNet (Lin et al., "Focal Loss for Dense Object Detection", 2017), step by step.

Every component of the detector lives in its own module (``boxes``, ``anchors``, ``matching``, ...);
the notebooks build each one by hand and then check it against the module here.
"""
from __future__ import annotations

import os
import random

__version__ = "0.1.0"

QUICK_ENV = "RETINA_LESSON_QUICK"


def is_quick() -> bool:
    """True when ``RETINA_LESSON_QUICK=1``: the test run shrinks every notebook's work."""
    return os.environ.get(QUICK_ENV) == "1"


def setup(seed: int = 0) -> bool:
    """Seed everything, fix print and figure settings; return ``QUICK``.

    The first code cell of every notebook is ``QUICK = retina_lesson.setup(0)``.
    """
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_printoptions(precision=4, sci_mode=False)
    try:
        import matplotlib as mpl

        mpl.rcParams.update({"figure.figsize": (8.0, 5.0), "figure.dpi": 90, "savefig.dpi": 90,
                             "axes.grid": False, "image.interpolation": "nearest"})
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        pass
    return is_quick()


def scale(full, quick):
    """Pick the real-mode value or the quick-mode (test) value of a work size."""
    return quick if is_quick() else full


def default_device():
    """The GPU when one is present, the CPU otherwise."""
    import torch

    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
