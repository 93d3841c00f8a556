"""Python: the grammar of one function definition (``grammar.py``), how each constraint is
enforced in it (``lower.py``, the language the lower pass asks), signatures and types,
naming styles, keywords, the post-generation checks (``checks.py``) with the reading of
names they use (``references.py``, ``escapes.py``, ``nfkc.py``), the corpus of real
functions the grammar is measured on, and ``std.ariadne`` (``import std.python;``)."""
