"""Frontends: importing grammars written for other engines into GrammarIR."""

__all__: list[str] = []
