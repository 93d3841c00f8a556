"""Checking grammars offline, with the real engines and no model.

- :mod:`~ananke.engines.membership`: every engine behind one API (compile a grammar,
  decide whole strings), found by name, and which engines read each target's output
  (:func:`~ananke.engines.membership.readers`, from the ``readers`` each backend declares);
- :mod:`~ananke.engines.acceptance`: llguidance over a byte-level tokenizer, with where
  and why a string is rejected;
- :mod:`~ananke.engines.rejection`: which constraint a grammar rejection comes from;
- :mod:`~ananke.engines.sample`: strings sampled from a grammar, and near misses;
- :mod:`~ananke.engines.bpe` and :mod:`~ananke.engines.llamacpp_sampler`: vocabularies
  (a BPE tokenizer trained here, llama.cpp's sampler) for token-level checks;
- ``llamacpp/``: the Node.js bridge to llama.cpp's GBNF engine (``npm ci --prefix
  engines/llamacpp`` installs it).

Engines are imported lazily, inside functions: importing these modules is cheap. What
runs at generation time lives in :mod:`ananke.runtime`.
"""
