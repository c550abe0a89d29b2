"""Progress bars: widgets in JupyterLab, plain text where the output is stored or logged.

``tools/run_notebooks.py`` sets ``RETINA_LESSON_TEXT_PROGRESS=1`` when it executes a lesson for
storage: a widget's state is not part of the stored output, so a stored widget bar shows as frozen
at 0 %, while a text bar is stored finished (the tool keeps only its last update).
"""
from __future__ import annotations

import os

TEXT_ENV = "RETINA_LESSON_TEXT_PROGRESS"


def tqdm(*args, **kwargs):
    """``tqdm.auto.tqdm``, or the plain-text ``tqdm`` when ``RETINA_LESSON_TEXT_PROGRESS=1``."""
    if os.environ.get(TEXT_ENV) == "1":
        # tqdm.asyncio's bar prints what tqdm.std's prints, and iterates like tqdm.auto's (which is
        # built on it): it calls iter() on the iterable once more when created. On a DataLoader
        # with a seeded generator every iter() draws from that generator, so with tqdm.std the
        # batches of a training run would differ between a stored execution and any other run
        from tqdm.asyncio import tqdm as text_tqdm

        kwargs.setdefault("mininterval", 5.0)
        kwargs.setdefault("ascii", False)
        return text_tqdm(*args, **kwargs)
    from tqdm.auto import tqdm as auto_tqdm

    return auto_tqdm(*args, **kwargs)
