"""
The operations of the overlap, when one value has two shapes while both
releases run (DESIGN, "Two shapes of one value"): columns kept equal and
copied (``columns.py``: a rename's, a retype's), a renamed table's old
names (``tables.py``), NULLs filled (``fill.py``). Generated migrations
import them from ``bluegreen_autodetector.operations``, their public path.
"""
