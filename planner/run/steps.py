"""How a run reports its steps: a context manager per step (the CLI prints them)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

#: A step reporter: called with the step's text, returns a context manager around it.
Step = Callable[[str], AbstractContextManager[None]]


def quiet(text: str) -> AbstractContextManager[None]:
    """Report nothing (the library default; ``planner run`` prints each step)."""
    del text
    return nullcontext()
