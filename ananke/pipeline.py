"""From a ConstraintIR module to each target's grammar: lower, run the target's lowerings,
demote what the target cannot express, print.

The lower pass builds the reference grammar (llguidance's semantics). A target then runs
the GrammarIR lowerings its backend lists (``Backend.passes``). When one of them cannot
express a rule that enforces constraints (say a naming pattern whose regex needs a lexer),
those constraints are *demoted*: lowered again without them, so the grammar no longer
enforces them, and checked after generation instead. Each demotion is a diagnostic
(``demoted-to-post``: a warning, or an error with ``strict``) and shows in the plan that
``arc explain --target`` prints. A rule of the language itself that a target cannot
express is an error (``target-cannot-express``): there is nothing to demote.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import msgspec

from ananke.backends import get_backend
from ananke.ir.constraint import (
    Constraint,
    ConstraintSet,
    Module,
    OutputGrammar,
    Schema,
    SourceProvenance,
)
from ananke.ir.diagnostics import Diagnostic, Diagnostics, Label, quote
from ananke.ir.grammar import Grammar, Rule
from ananke.ir.lower import LowerToGrammar
from ananke.ir.lowerings import CannotLower, GrammarPass
from ananke.ir.lowerings.charlevel import CharLevel
from ananke.ir.plan import Lowered

if TYPE_CHECKING:
    from ananke.ir.lowerings.boundaries import BoundaryReport

__all__ = ["emit", "lower_for_target", "transpile_grammar"]


def _run_passes(
    grammar: Grammar, passes: Sequence[GrammarPass], diags: Diagnostics, *, given: bool
) -> tuple[Grammar | None, BoundaryReport | None]:
    """``grammar`` through ``passes`` in order (None when one reported an error), and the
    report of the greedy-boundaries pass when it ran. That pass runs only on a grammar
    someone wrote (``given``): the grammars Ananke builds keep lexemes apart by
    construction. Raises :class:`CannotLower` for a rule the target cannot express."""
    from ananke.ir.lowerings.boundaries import GreedyBoundaries

    out: Grammar | None = grammar
    report: BoundaryReport | None = None
    for lowering in passes:
        if out is None:
            break
        if isinstance(lowering, GreedyBoundaries):
            if given:
                out, report = lowering.rewrite(out)
            continue
        out = lowering.run(out, diags)
    return out, report


def _char_level(passes: Sequence[GrammarPass]) -> bool:
    return any(isinstance(p, CharLevel) for p in passes)


def lower_for_target(
    module: Module,
    target: str,
    diags: Diagnostics,
    *,
    strict: bool = False,
    max_nesting: int | None = None,
) -> tuple[Lowered, ...] | None:
    """One :class:`Lowered` per constraint set, its grammar ready for ``target``'s printer;
    None when a set cannot be lowered for it (the reason is in ``diags``).

    ``KeyError`` for an unknown target.
    """
    backend = get_backend(target)
    results: list[Lowered] = []
    json_passes = () if backend.json_output else backend.passes
    failed = False
    for cset in module.sets:
        passes = json_passes if cset.language == "json" else backend.passes
        lowered = _lower_set(cset, module.schemas, target, passes, diags, strict, max_nesting)
        if lowered is None:
            failed = True
        else:
            results.append(lowered)
    return None if failed else tuple(results)


def _lower_set(
    cset: ConstraintSet,
    schemas: tuple[Schema, ...],
    target: str,
    passes: tuple[GrammarPass, ...],
    diags: Diagnostics,
    strict: bool,
    max_nesting: int | None,
) -> Lowered | None:
    demote: dict[str, str] = {}
    by_id = {c.id: c for c in cset.constraints}
    given = cset.of_kind(OutputGrammar)
    boundaries: BoundaryReport | None = None
    while True:
        lowered = LowerToGrammar(target=target, max_nesting=max_nesting, demote=demote).lower_set(
            cset, diags, schemas
        )
        try:
            grammar, boundaries = _run_passes(
                lowered.grammar,
                passes,
                _Placed(diags, lowered.grammar) if given else diags,
                given=bool(given),
            )
        except CannotLower as exc:
            todo = [i for i in exc.origins if i not in demote and i in by_id]
            if not todo:
                labels = _given_labels(given)
                rule = _defined(lowered.grammar, exc.rule) if given else None
                if rule is not None and rule.span is not None:
                    here = f"`{_written(rule)}` is defined here"
                    labels.insert(0, Label(span=rule.span, message=here))
                help_ = "`arc explain FILE --target all` shows what each target can enforce"
                why = _naming(exc, rule)
                if target == "json-schema" and not given and cset.language != "json":
                    why = "a JSON schema expresses one JSON document only, and this output is code"
                    help_ = "declare `language: json;` for output that is one JSON document"
                diags.error(
                    exc.code,
                    f"{target} cannot express constraint set {quote(cset.name)}: {why}",
                    *labels,
                    help=help_,
                )
                return None
            for cid in todo:
                demote[cid] = exc.message
                _report_demotion(by_id[cid], target, exc.message, diags, strict)
            continue
        if grammar is None:
            return None
        notes = lowered.notes
        if boundaries is not None:
            _warn_boundaries(boundaries, target, diags, lowered.grammar, _given_labels(given))
            open_ = len(boundaries.ambiguous) + len(boundaries.unanalysed)
            notes += (
                "the target matches characters, without llguidance's greedy lexer: every "
                "lexeme is written out as rules, and after a lexeme a character that always "
                "continues it may not come next, as llguidance reads it; "
                + (
                    f"{open_} lexeme {'boundary is' if open_ == 1 else 'boundaries are'} "
                    "left where the target may accept more (see the warnings)"
                    if open_
                    else "no lexeme boundary is left where the two may differ"
                ),
            )
        elif _char_level(passes):
            notes += (
                "the target matches characters, without llguidance's greedy lexer: every "
                "lexeme is written out as rules (negation and intersection through "
                "automata); spec/backends.md says how agreement with llguidance is checked",
            )
        return Lowered(
            set_name=lowered.set_name,
            target=target,
            grammar=grammar,
            enforcements=lowered.enforcements,
            notes=notes,
        )


def _report_demotion(
    c: Constraint, target: str, reason: str, diags: Diagnostics, strict: bool
) -> None:
    labels = []
    if isinstance(c.provenance, SourceProvenance):
        labels.append(Label(span=c.provenance.span, message="enforced after generation only"))
    report = diags.error if strict else diags.warning
    report(
        "demoted-to-post",
        f"{target} cannot enforce {quote(c.id)} in its grammar; it is checked after generation",
        *labels,
        notes=(reason,),
        help="emit for llguidance or lark-vllm to enforce it while generating"
        + ("" if strict else ", or pass --strict to make this an error"),
    )


def emit(lowered: Lowered, target: str) -> str:
    """The text of one lowered grammar for ``target``."""
    return get_backend(target).emit(lowered.grammar)


def transpile_grammar(grammar: Grammar, target: str, diags: Diagnostics) -> str | None:
    """An imported grammar printed for ``target``: its lowerings, then its printer. What
    the target cannot express is an error (an imported grammar has no constraints to
    demote); a lexeme boundary where the target's character-level matching would accept
    more than llguidance's greedy lexer is a warning (``lexeme-boundary``)."""
    from ananke.ir.lowerings.boundaries import BoundaryReport

    backend = get_backend(target)
    original = grammar
    try:
        lowered, found = _run_passes(grammar, backend.passes, _Placed(diags, original), given=True)
    except CannotLower as exc:
        rule = next(filter(None, (_defined(original, n) for n in (exc.rule, *exc.also))), None)
        name = quote(exc.rule, ticks=False) if rule is None else _written(rule)
        message = _naming(exc, rule)
        labels = []
        if rule is not None and rule.span is not None:
            labels.append(Label(span=rule.span, message=f"`{name}` is defined here"))
        diags.error(
            exc.code,
            f"{target} cannot express rule `{name}`: {message}",
            *labels,
            help="a JSON schema stands only for a grammar whose start rule is one `%json` "
            "schema; emit for a grammar target (llguidance, xgrammar, gbnf)"
            if target == "json-schema"
            else "emit for a target with a lexer (llguidance, lark-vllm)",
        )
        return None
    if lowered is None:
        return None
    report = found or BoundaryReport(ambiguous=(), unanalysed=())
    _warn_boundaries(report, target, diags, original)
    return backend.emit(lowered)


class _Placed(Diagnostics):
    """Diagnostics of the lowerings of an imported grammar, passed on to ``into``; one
    with no place gets the definition of the first rule of ``grammar`` it names, or, when
    it names none (it is about the whole grammar), that of the start rule."""

    def __init__(self, into: Diagnostics, grammar: Grammar) -> None:
        super().__init__()
        self.into = into
        self.grammar = grammar

    def add(self, diagnostic: Diagnostic) -> None:
        if not diagnostic.labels:
            for name in re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", diagnostic.message):
                rule = _defined(self.grammar, name)
                if rule is not None and rule.span is not None:
                    here = Label(span=rule.span, message=f"`{_written(rule)}` is defined here")
                    diagnostic = msgspec.structs.replace(diagnostic, labels=(here,))
                    break
            else:
                start = _defined(self.grammar, self.grammar.start)
                if start is not None and start.span is not None:
                    here = Label(span=start.span, message="the grammar starts here")
                    diagnostic = msgspec.structs.replace(diagnostic, labels=(here,))
        super().add(diagnostic)
        self.into.add(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        for d in diagnostics:
            self.add(d)


def _given_labels(given: Sequence[Constraint]) -> list[Label]:
    return [
        Label(span=c.provenance.span, message="the grammar is given here")
        for c in given
        if isinstance(c.provenance, SourceProvenance)
    ]


def _naming(exc: CannotLower, rule: Rule | None) -> str:
    """``exc``'s message, with the rule it is about named as the grammar file writes it."""
    if rule is None or rule.span is None:
        return exc.message
    message = exc.message
    for kind in ("rule", "lexeme"):
        message = message.replace(f"{kind} {exc.rule}:", f"{kind} `{_written(rule)}`:")
        message = message.replace(f"{kind} {exc.rule} ", f"{kind} `{_written(rule)}` ")
    return message


def _written(rule: Rule) -> str:
    """The rule as the grammar file writes it: a template's application (``pair{a, B}``)
    rather than the name of the rule made of it."""
    _, applied, written = rule.comment.partition(" applied: ")
    return quote(written if applied and rule.span is not None else rule.name, ticks=False)


def _defined(grammar: Grammar, name: str) -> Rule | None:
    """The rule of ``grammar`` that ``name`` is, or that a lowering made ``name`` of
    (lowerings name what they write after the rule: ``NUM`` -> ``num``, ``num__0_x``)."""
    rules = {r.name: r for r in grammar.rules}
    if name in rules:
        return rules[name]
    low = name.lower()
    made = [
        r
        for r in grammar.rules
        if low.rstrip("_") == r.name.lower() or low.startswith(r.name.lower() + "_")
    ]
    return max(made, key=lambda r: len(r.name), default=None)


def _shown(name: str, report: BoundaryReport) -> str:
    """A lexeme as the user wrote it: its name, or the literal, class or regex itself
    (the analysis gives those names of its own)."""
    from ananke.ir.grammar import CharClass, Lit, Regex

    expr = report.exprs.get(name)
    if isinstance(expr, Lit):
        return json.dumps(expr.text, ensure_ascii=False)
    if isinstance(expr, Regex):
        return f"/{expr.pattern}/"
    if isinstance(expr, CharClass):
        parts = "".join(
            _class_char(a) if a == b else f"{_class_char(a)}-{_class_char(b)}"
            for a, b in expr.ranges
        )
        return f"[{'^' if expr.negated else ''}{parts}]"
    return name


def _class_char(c: int) -> str:
    ch = chr(c)
    return ch if ch.isprintable() and ch not in "\\]^-" else f"\\u{{{c:X}}}"


def _lexeme_labels(grammar: Grammar, name: str, report: BoundaryReport) -> list[Label]:
    """Where the grammar file writes lexeme ``name``: its definition, or the rules that
    write the literal or regex it is."""
    from ananke.ir.grammar import walk

    rules = {r.name: r for r in grammar.rules}
    if name in rules:
        rule = rules[name]
        if rule.span is None:
            return []
        here = f"{quote(name)} is defined here"
        return [Label(span=rule.span, message=here, primary=False)]
    expr = report.exprs.get(name)
    shown = _shown(name, report)
    return [
        Label(span=r.span, message=f"{shown} is written in `{_written(r)}`", primary=False)
        for r in grammar.rules
        if r.span is not None and not r.lexeme and expr is not None and expr in walk(r.body)
    ][:2]


def _warn_boundaries(
    report: BoundaryReport,
    target: str,
    diags: Diagnostics,
    grammar: Grammar,
    labels: Sequence[Label] = (),
) -> None:
    """A ``lexeme-boundary`` warning for each boundary the greedy rewrite left open, and
    one for the lexemes too large to analyse; each points at the lexemes in the grammar
    file."""
    for b in report.ambiguous:
        before, after = _shown(b.before, report), _shown(b.after, report)
        where = _lexeme_labels(grammar, b.before, report)
        if b.after != b.before:
            where += _lexeme_labels(grammar, b.after, report)
        if where and not labels:
            where[0] = Label(span=where[0].span, message=where[0].message)
        diags.warning(
            "lexeme-boundary",
            f"{target} may accept more than llguidance where {before} meets {after}",
            *labels,
            *where,
            notes=(dataclasses.replace(b, before=before, after=after).describe(),),
            help="make the two lexemes unable to run into each other (a separator "
            "between them, or one lexeme for both), or emit for a target with a lexer",
        )
    if report.unanalysed:
        diags.warning(
            "lexeme-boundary",
            f"lexeme boundaries of {', '.join(report.unanalysed)} were not analysed: "
            "their automata are too large",
            *labels,
            help="agreement with llguidance there is not proven; test it with real strings",
        )
