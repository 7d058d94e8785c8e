"""Sphinx configuration: the reference of bluegreen_autodetector (``make docs``)."""

project = "bluegreen_autodetector"
author = "The bluegreen-autodetector authors"
extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
# Pages' own headings become anchors, as GitHub makes them.
myst_heading_anchors = 3
html_theme = "alabaster"
html_title = "bluegreen_autodetector"
