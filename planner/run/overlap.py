"""Draw the gap map on the second core while this process writes the data files.

After the assessment, ``planner run`` has two independent jobs: draw the gap map and
render its page, and write the GeoPackages and CSV files. :func:`start_page` forks one
child (``multiprocessing``'s ``fork`` start method: the child inherits the assessment, so
nothing is copied or pickled on the way in) that draws the map and sends back the page's
HTML text through a pipe; this process writes the data files meanwhile and then saves the
page through the usual :func:`planner.maps.save_map` (the external-asset check, the
planner-made and atomic path), so the files are the same as drawn in series.

An error in the child is raised here with its own type and message (an
:class:`~planner._errors.InputError` stays a clear message); the child's traceback is
attached as a note. The child never outlives the run: :meth:`PendingPage.cancel` (called
by the run on any failure or Ctrl-C) ends it, and it stops by itself on Ctrl-C.

The map is drawn in series (:func:`overlap_possible` is false) where forking is unwise:
no ``fork`` start method (Windows), a daemonic process (a Dask or multiprocessing worker
may not have children), a thread other than the main one (forking a multi-threaded server
risks locks held by other threads), a single core, or a small district (fewer than
:data:`OVERLAP_MIN_COMMUNITIES` communities: forking costs about 50 ms, more than a small
map takes).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import threading
import traceback
from collections.abc import Callable
from typing import Any

__all__ = ["OVERLAP_MIN_COMMUNITIES", "PendingPage", "overlap_possible", "start_page"]

#: Draw the gap map in a forked child from this many communities on (a map of 2,000
#: communities takes about 0.15 s to draw; forking costs about 0.05 s).
OVERLAP_MIN_COMMUNITIES = 2_000
#: Seconds to wait for a child to end after it was asked to stop, before killing it.
_STOP_WAIT_S = 2.0


def overlap_possible(n_communities: int) -> bool:
    """Whether the map can be drawn in a forked child (see the module's notes)."""
    return (n_communities >= OVERLAP_MIN_COMMUNITIES
            and _cores() >= 2
            and "fork" in multiprocessing.get_all_start_methods()
            and not multiprocessing.current_process().daemon
            and threading.current_thread() is threading.main_thread())


def _cores() -> int:
    """Cores this process may run on (its CPU affinity where known)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no sched_getaffinity (macOS)
        return os.cpu_count() or 1


def start_page(draw: Callable[[], Any]) -> PendingPage:
    """Fork a child that calls ``draw()`` (returning a :class:`planner.maps.GapMap`).

    The child renders the map's page and sends its text back; :meth:`PendingPage.render`
    waits for it. Call it only where :func:`overlap_possible` is true.
    """
    pending = PendingPage()
    pending.start(draw)
    return pending


class PendingPage:
    """A gap map's page being drawn in a forked child; stands in for the map.

    :meth:`render` returns the page's HTML text (as :meth:`planner.maps.GapMap.render`
    does), so :func:`planner.maps.save_map` saves it as it saves a map drawn here.
    """

    def __init__(self) -> None:
        self._process: Any = None
        self._reader: Any = None
        self._text: str | None = None

    def start(self, draw: Callable[[], Any]) -> None:
        """Fork the child drawing ``draw()``'s page."""
        ctx = multiprocessing.get_context("fork")
        reader, writer = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_child, args=(draw, reader, writer),
                              name="planner-gap-map", daemon=True)
        try:
            process.start()
        finally:
            writer.close()  # this process only reads: the child's end alone stays open
        self._process, self._reader = process, reader

    def render(self) -> str:
        """The page's HTML text: waits for the child; raises the child's error here."""
        if self._text is not None:
            return self._text
        if self._reader is None:
            msg = "the gap map's child process was stopped before its page was read"
            raise RuntimeError(msg)
        try:
            kind, payload = _receive(self._reader)
        except BaseException:  # Ctrl-C while waiting: stop the child, do not await it
            self._finish(stop=True)
            raise
        self._finish()
        if kind == "page":
            self._text = payload.decode("utf-8")
            return self._text
        raise _rebuilt(kind, payload)

    def cancel(self) -> None:
        """Stop the child if it still runs (the run failed or was interrupted)."""
        self._finish(stop=True)

    def _finish(self, *, stop: bool = False) -> None:
        process, reader = self._process, self._reader
        self._process = self._reader = None
        if reader is not None:
            reader.close()
        if process is None:
            return
        if stop and process.is_alive():
            process.terminate()
        process.join(_STOP_WAIT_S if stop else None)
        if process.is_alive():  # ignored SIGTERM: no child is left behind
            process.kill()
            process.join()
        process.close()

    def __del__(self) -> None:
        """Never leave a child behind (a caller that neither read nor cancelled)."""
        if getattr(self, "_process", None) is not None:
            with contextlib.suppress(Exception):  # at interpreter exit, modules may be gone
                self._finish(stop=True)


def _receive(reader: Any) -> tuple[str, bytes]:
    """The child's message: ``("page", html bytes)`` or an error's kind and payload."""
    try:
        message = reader.recv_bytes()
    except EOFError:  # the child ended without a word: killed, or out of memory
        return "lost", b""
    kind, _, payload = message.partition(b"\0")
    return kind.decode("ascii"), payload


def _rebuilt(kind: str, payload: bytes) -> BaseException:
    """The child's error, to raise in this process (same type and message)."""
    if kind == "lost":
        return RuntimeError("the process drawing the gap map ended unexpectedly (killed, or "
                            "out of memory?); no complete output was written")
    if kind == "error":
        exc, where = pickle.loads(payload)  # our own forked child wrote it
    else:  # "text": an error that does not pickle, as "Type: message"
        exc, where = RuntimeError(payload.decode("utf-8", "replace")), ""
    if where and isinstance(exc, BaseException):
        exc.add_note(f"(raised while drawing the gap map in a forked process)\n{where}")
    return exc


def _child(draw: Callable[[], Any], reader: Any, writer: Any) -> None:
    """In the forked child: draw, render, send the page (or the error) and end."""
    reader.close()  # a parent that dies then breaks the pipe instead of leaving us waiting
    try:
        try:
            message = b"page\0" + draw().render().encode("utf-8")
        except (KeyboardInterrupt, SystemExit):
            os._exit(1)  # Ctrl-C reaches the parent too: it reports, not us
        except Exception as exc:  # every error goes back to the parent
            message = _error_message(exc)
        writer.send_bytes(message)
    except (BrokenPipeError, KeyboardInterrupt):
        os._exit(1)  # the parent is gone or stopping: nothing to tell
    finally:
        writer.close()


def _error_message(exc: Exception) -> bytes:
    """``exc`` pickled with its traceback text, or as text when it cannot be pickled."""
    where = "".join(traceback.format_exception(exc))
    try:
        payload = pickle.dumps((exc, where))
        pickle.loads(payload)  # one that pickles but will not load: as text
    except Exception:
        return b"text\0" + f"{type(exc).__name__}: {exc}".encode()
    return b"error\0" + payload
