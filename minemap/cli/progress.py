"""Progress bars on stderr for long commands (rich), only where someone watches.

The core never imports rich or click: its long functions take an optional
callback, ``progress(done, total)`` (the crossref engine) or
``progress(stage, done, total)`` (the :data:`ProgressFn` shape), and this
module turns the calls into bars.  A bar is shown only when stderr is a
terminal and ``-q`` was not given; otherwise every call is a no-op and rich is
not even imported, so a pipe or a log gets nothing extra.

Usage in a command::

    with progress(ctx) as bar:
        with bar.step("reading"):                 # work without a hook: a spinner
            frames = read(...)
        table = crossref(..., progress=bar.stage("crossref"))   # done/total

or, held until the command returns, ``bar = ctx.with_resource(progress(ctx))``
then ``bar.begin("rendering")`` before each stage.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

#: The core's callback shape: ``progress(stage, done, total)``; ``total`` is
#: ``None`` while unknown.
ProgressFn = Callable[[str, int, "int | None"], None]


class Bars:
    """One bar per stage; a no-op when there is nothing to draw on.

    Parameters
    ----------
    live
        A started ``rich.progress.Progress``, or ``None`` to ignore every call.
    """

    def __init__(self, live: Any | None = None) -> None:
        self._live = live
        self._tasks: dict[str, Any] = {}
        self._open: str | None = None

    @property
    def shown(self) -> bool:
        """Whether the bars are drawn (stderr is a terminal, no ``-q``)."""
        return self._live is not None

    def __call__(self, stage: str, done: int, total: int | None = None) -> None:
        """Report ``done`` of ``total`` units of ``stage`` (a :data:`ProgressFn`)."""
        if self._live is None:
            return
        task = self._tasks.get(stage)
        if task is None:
            task = self._tasks[stage] = self._live.add_task(stage, total=total)
        self._live.update(task, completed=done, total=total)

    def stage(self, name: str) -> Callable[[int, int], None]:
        """A ``progress(done, total)`` callback for one stage (the engine's shape)."""
        return lambda done, total: self(name, done, total)

    def begin(self, name: str) -> None:
        """Start a stage with no progress hook (a spinner and the elapsed time).

        The stage begun before it, if any, is marked done.
        """
        self.end()
        self(name, 0, None)
        self._open = name

    def end(self) -> None:
        """Mark the stage begun last done."""
        if self._open is not None and self._live is not None:
            self._live.update(self._tasks[self._open], total=1, completed=1)
        self._open = None

    def close(self) -> None:
        """Take the bars off the terminal now, before the command prints its result."""
        self.end()
        if self._live is not None:
            self._live.stop()

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """:meth:`begin` and :meth:`end` around a block."""
        self.begin(name)
        try:
            yield
        finally:
            self.end()


def shown(ctx: click.Context | None) -> bool:
    """Whether bars are drawn for this command: stderr is a terminal and no ``-q``."""
    quiet = bool(ctx and (ctx.find_root().obj or {}).get("quiet"))
    stream = sys.stderr
    return not quiet and hasattr(stream, "isatty") and stream.isatty()


@contextmanager
def progress(ctx: click.Context | None = None, step: str | None = None) -> Iterator[Bars]:
    """Bars on stderr for the duration of the block (see the module docstring).

    The bars are transient: they vanish when the block ends, so what stays on
    the terminal is the command's own output.  ``step`` begins a first stage.
    A command can hold the bars until it returns with
    ``bar = ctx.with_resource(progress(ctx, "importing"))``.
    """
    if not shown(ctx):
        yield Bars()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    class Counts(MofNCompleteColumn):
        # "3/10" where the total is known; nothing, rather than "0/?", where not.
        def render(self, task):
            return super().render(task) if task.total is not None else ""

    live = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    Counts(), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True,
                    # What the command prints to a terminal meanwhile goes above
                    # the bars; output to a pipe or a file is left alone.
                    redirect_stdout=sys.stdout.isatty())
    with live:
        bars = Bars(live)
        if step:
            bars.begin(step)
        yield bars


def reading(files) -> str:
    """The label of an import's step: the file, or how many."""
    files = list(files)
    return f"importing {files[0]}" if len(files) == 1 else f"importing {len(files)} files"
