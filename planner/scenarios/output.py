"""Write a scenario's or a site search's tables into a folder, atomically and safely.

The same rules as :mod:`planner.io.outputs`: files are written into a marked temporary
folder and moved into place; a file with an output's name that the planner did not write
(by the folder's manifest) is never replaced (the one check,
:func:`planner.io.outputs.refuse_foreign_outputs`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from planner.io.guard import Manifest, check_output_paths, clear_partial, make_partial, output_lock
from planner.io.outputs import refuse_foreign_outputs


def write_files(out_dir: str | Path, writers: dict[str, Callable[[Path], object]], *,
                inputs: Iterable[str | Path | None] = ()) -> dict[str, Path]:
    """Write every ``name → writer(path)`` into ``out_dir``; return name → path.

    Raises
    ------
    InputError
        ``out_dir`` cannot be used (see :func:`planner.io.guard.check_output_paths`), or
        holds a file of one of these names that the planner did not write (see
        :func:`planner.io.outputs.refuse_foreign_outputs`).
    """
    out = check_output_paths(out_dir, inputs=inputs)
    out.mkdir(parents=True, exist_ok=True)
    with output_lock(out):
        clear_partial(out)
        manifest = Manifest.read(out)
        refuse_foreign_outputs(out, manifest=manifest, names=list(writers))
        tmp = make_partial(out)
        try:
            for name, write in writers.items():
                write(tmp / name)
            sizes = {n: [(tmp / n).stat().st_size] for n in writers}
            files = dict(manifest.files)
            manifest.write({**files, **{n: sorted({*files.get(n, []), *s})
                                        for n, s in sizes.items()}})
            written = {}
            for name in writers:
                os.replace(tmp / name, out / name)
                written[name] = out / name
            manifest.write({**files, **sizes})
            return written
        finally:
            if tmp.exists():
                for p in tmp.iterdir():
                    p.unlink()
                tmp.rmdir()
