"""The machinery every exercise check shares: run cases, compare, explain the first failure.

A check calls the student's function on hand-picked cases (edge values first) and random ones and
compares each result with the package's own function. It

* prints one line (``box_iou: 14 cases agree``) and returns a true ``Verdict`` when every case
  agrees;
* raises ``AssertionError`` naming the first failing case: its description, the input, the
  expected and the received value, and a hint when the result matches a known mistake;
* prints that the exercise is not done yet and returns a false ``Verdict`` when the function still
  raises ``NotImplementedError`` (the stub as handed out), so a fresh lesson runs top to bottom.

A ``Verdict`` is truthy when the check passed and shows nothing in a notebook: the printed line says
it all, with no ``True`` / ``False`` under it.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch


class Verdict:
    """What a check returns: true when every case agreed, false while the exercise is not done."""

    def __init__(self, name: str, passed: bool):
        self.name, self.passed = name, passed

    def __bool__(self) -> bool:
        return self.passed

    def __eq__(self, other) -> bool:
        return bool(self) == bool(other) if isinstance(other, (bool, Verdict)) else NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"<{self.name}: {'passed' if self.passed else 'not done yet'}>"

    def _ipython_display_(self) -> None:
        """Show nothing as a cell's result: the check has printed its line."""


@dataclass
class Case:
    """One input of a check, described in a student's words ("two boxes that only touch")."""

    description: str
    args: tuple
    kwargs: dict = field(default_factory=dict)

    def call(self, fn: Callable) -> Any:
        # every call gets its own copy: a function that writes into its inputs cannot spoil the
        # reference's inputs (or the next case)
        return fn(*copy.deepcopy(self.args), **copy.deepcopy(self.kwargs))


@dataclass
class Mistake:
    """A known wrong version of the function and the hint to give when a result matches it."""

    hint: str
    wrong: Callable

    def __call__(self, case: Case, expected: Any, received: Any) -> str | None:
        try:
            wrong = case.call(self.wrong)
        except Exception:  # noqa: BLE001 - a wrong version that cannot run this case says nothing
            return None
        return self.hint if agree(received, wrong) and not agree(expected, wrong) else None


Hint = Callable[[Case, Any, Any], "str | None"]


def agree(received: Any, expected: Any, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Same structure, same shapes, same dtypes' kind, values equal within tolerance."""
    return _difference(received, expected, rtol, atol) is None


def _difference(received: Any, expected: Any, rtol: float, atol: float) -> str | None:
    """None when they agree, otherwise what differs, in one short phrase."""
    if isinstance(expected, (tuple, list)):
        if not isinstance(received, (tuple, list)) or len(received) != len(expected):
            return f"expected {len(expected)} results, received {_kind(received)}"
        for k, (r, e) in enumerate(zip(received, expected)):
            why = _difference(r, e, rtol, atol)
            if why is not None:
                return f"result {k}: {why}"
        return None
    if isinstance(expected, dict):
        if not isinstance(received, dict) or set(received) != set(expected):
            return f"expected a dict with keys {sorted(expected)}, received {_kind(received)}"
        for key in expected:
            why = _difference(received[key], expected[key], rtol, atol)
            if why is not None:
                return f"{key!r}: {why}"
        return None
    if isinstance(expected, torch.Tensor):
        if not isinstance(received, torch.Tensor):
            return f"expected a tensor, received {_kind(received)}"
        if received.shape != expected.shape:
            return f"expected shape {tuple(expected.shape)}, received shape {tuple(received.shape)}"
        if expected.dtype == torch.bool or not expected.is_floating_point():
            if received.is_floating_point() and not expected.is_floating_point():
                return f"expected whole numbers ({expected.dtype}), received {received.dtype}"
            return None if torch.equal(received.to(expected.dtype), expected) else "values differ"
        close = torch.isclose(received.double(), expected.double(), rtol=rtol, atol=atol,
                              equal_nan=True)
        return None if bool(close.all()) else "values differ"
    if isinstance(expected, float) or isinstance(received, float):
        try:
            ok = abs(float(received) - float(expected)) <= atol + rtol * abs(float(expected))
        except (TypeError, ValueError):
            return f"expected a number, received {_kind(received)}"
        return None if ok else "values differ"
    return None if received == expected else "values differ"


def _kind(x: Any) -> str:
    if isinstance(x, torch.Tensor):
        return f"a tensor of shape {tuple(x.shape)}"
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of length {len(x)}"
    return f"{type(x).__name__} {x!r}"[:80]


def show(x: Any, limit: int = 12) -> str:
    """A value as a student reads it: small tensors in full, large ones by shape and a few values."""
    if isinstance(x, torch.Tensor):
        flat = x.detach().flatten()
        if flat.numel() <= limit:
            return repr(x.detach()).replace("\n", " ").replace("       ", " ")
        head = ", ".join(f"{v:.4g}" if x.is_floating_point() else str(int(v))
                         for v in flat[:6].tolist())
        return f"tensor of shape {tuple(x.shape)}, {x.dtype}, starting [{head}, ...]"
    if isinstance(x, (tuple, list)):
        inner = ", ".join(show(v, limit) for v in x)
        return f"({inner})" if isinstance(x, tuple) else f"[{inner}]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {show(v, limit)}" for k, v in x.items()) + "}"
    return repr(x)


def not_done(name: str) -> Verdict:
    print(f"{name}: not done yet - fill in the function (replace `raise NotImplementedError`), "
          "then run this check again.")
    return Verdict(name, False)


def run_check(name: str, fn: Callable, reference: Callable, cases: Sequence[Case], *,
              hints: Sequence[Hint] = (), arg_names: Sequence[str] = (),
              rtol: float = 1e-4, atol: float = 1e-5) -> Verdict:
    """Compare ``fn`` with ``reference`` on every case; see the module docstring for the verdicts."""
    for number, case in enumerate(cases, start=1):
        expected = case.call(reference)
        try:
            received = case.call(fn)
        except NotImplementedError:
            return not_done(name)
        except Exception as error:  # noqa: BLE001 - the student's code may raise anything
            raise AssertionError(_report(name, number, len(cases), case, arg_names, expected,
                                         f"an error: {type(error).__name__}: {error}",
                                         None)) from None
        why = _difference(received, expected, rtol, atol)
        if why is not None:
            hint = next((h for h in (hint(case, expected, received) for hint in hints) if h), None)
            raise AssertionError(_report(name, number, len(cases), case, arg_names, expected,
                                         show(received), hint, why))
    print(f"{name}: {len(cases)} cases agree")
    return Verdict(name, True)


def _report(name, number, total, case, arg_names, expected, received, hint, why=None) -> str:
    names = list(arg_names) + [f"arg{k}" for k in range(len(arg_names), len(case.args))]
    inputs = ", ".join(f"{n} = {show(a)}" for n, a in zip(names, case.args))
    inputs += "".join(f", {k} = {show(v)}" for k, v in case.kwargs.items())
    lines = [f"{name}: case {number} of {total} fails - {case.description}",
             f"  input:    {inputs}",
             f"  expected: {show(expected)}",
             f"  received: {received}"]
    if why and why != "values differ":
        lines.append(f"  ({why})")
    if hint:
        lines.append(f"  hint: {hint}")
    return "\n".join(lines)
