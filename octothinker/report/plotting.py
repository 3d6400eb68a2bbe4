"""matplotlib for the report's figures: imported when a figure is drawn, never at import (`octo report` on a
run without figures, and every other command, start without it), and on the file-only Agg backend, so a
machine without a display draws the same."""

from __future__ import annotations


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
