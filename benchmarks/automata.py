"""Automaton construction: a lexeme with negation, and blow-ups stopped at the bound."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.common import median_ms
from benchmarks.reporting import Report


def bench_automata(r: Report) -> None:
    """Building automata (``ananke.ir.automata``): a lexeme with negation and
    intersection, and constructions that stop at the state bound."""
    import keyword

    from ananke.ir.automata import DFA, StateLimitExceeded
    from ananke.ir.grammar import Alt, And, Lit, Not, Regex

    print("automata", flush=True)
    ident = r"[^\x00-\x40\x5B-\x5E\x60\x7B-\x7F][^\x00-\x2F\x3A-\x40\x5B-\x5E\x60\x7B-\x7F]*"
    words = Alt(items=tuple(Lit(text=k) for k in keyword.kwlist))
    expr = And(items=(Regex(pattern=ident), Not(item=words)))
    runs = 5 if r.quick else 20
    s = median_ms(lambda: DFA.from_expr(expr), runs)
    r.details["automata_identifier_minus_keywords_ms"] = s
    r.metric(
        f"DFA of identifiers minus the {len(keyword.kwlist)} keywords, median",
        s["p50"],
        "ms",
        50.0,
        note=f"{runs} runs; Unicode identifier classes reaching U+10FFFF",
    )

    def stopped(pattern: str, max_states: int) -> Callable[[], object]:
        def build() -> None:
            try:
                DFA.from_expr(Regex(pattern=pattern), max_states=max_states)
            except StateLimitExceeded:
                return
            raise AssertionError(f"{pattern} fits in {max_states} states")

        return build

    for pattern, bound, what in (
        ("(a|b)*a(a|b){20}", 10_000, "DFA (2**21 states needed)"),
        ("(?:[a-z]{50}){0,10000}", 100, "NFA (500,000 states needed, bound 2,000)"),
    ):
        s = median_ms(stopped(pattern, bound), 3 if r.quick else 7)
        r.details[f"automata_stop {pattern}"] = s
        r.metric(
            f"automaton construction stopped at its bound, `{pattern}`, median",
            s["p50"],
            "ms",
            1000.0,
            note=f"{s['n']} runs; max_states {bound:,}: the {what}",
        )
