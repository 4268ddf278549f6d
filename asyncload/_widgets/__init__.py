"""Notebook widgets, split by concern; the public names are in :mod:`asyncload.widgets`.

``model`` and ``selection`` are pure (no ipywidgets, no I/O); ``runtime`` imports ipywidgets lazily
and runs background work on the kernel's asyncio loop; ``progress``, ``panel`` and ``board`` render.
"""
