"""What a figure of the report shows, read from its PNG: a test of a figure checks that its panels have
curves drawn, not only that the file exists (a blank figure would pass that)."""

from __future__ import annotations


def curves_in(png, panels: int, rows: int = 1) -> list[bool]:
    """For each panel of a grid of `rows` x `panels` (row by row), whether a curve is drawn in it: a few
    hundred pixels in colour (the axes, ticks and text are black and grey, the background white)."""
    import matplotlib.image

    rgb = matplotlib.image.imread(png)[..., :3]
    coloured = (rgb.max(axis=-1) - rgb.min(axis=-1)) > 0.25
    height, width = coloured.shape[0] // rows, coloured.shape[1] // panels
    return [int(coloured[r * height:(r + 1) * height, i * width:(i + 1) * width].sum()) > 300
            for r in range(rows) for i in range(panels)]
