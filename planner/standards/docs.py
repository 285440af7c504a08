"""docs/standards.md, generated from the profiles so the document cannot drift from the data.

The prose (file format, how targets are read) is the template ``docs_template.md`` beside
this module; the per-city tables (each rule with its value, clause, how it is stated, the
reading chosen and the alternative reading; each target with unit, kinds, reading, threshold
and deadline) are written from the loaded profiles. Regenerate with::

    python -m planner.standards.docs > docs/standards.md

``tests/test_standards_docs.py`` fails when the file is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from planner.standards.loader import list_profiles, load_profile
from planner.standards.model import Profile, _Stated
from planner.standards.targets import MEASURES, TARGET_READINGS, UNITS, Target
from planner.standards.text import _item_text

TEMPLATE = Path(__file__).with_name("docs_template.md")
_PLACEHOLDER = "<!-- profiles (generated) -->"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip() or "—"


def _stated(profile: Profile, item: _Stated) -> str:
    how = f"inherited from {item.origin}" if item.inherited else "stated"
    return how + (", **assumption**" if item.assumption else "")


def _rule_rows(profile: Profile) -> list[str]:
    rows = ["| rule | value | clause | stated | reading chosen | alternative reading |",
            "|---|---|---|---|---|---|"]
    for key, item in profile.items():
        if isinstance(item, Target):
            continue
        _, value = _item_text(key, item)
        rows.append("| " + " | ".join(_cell(c) for c in (
            key, value, item.source.text(), _stated(profile, item),
            item.note or "as written", item.alternative)) + " |")
    return rows


def _target_rows(profile: Profile) -> list[str]:
    if not profile.targets:
        return [f"{profile.name} states no targets."]
    rows = ["| target | measure over unit (filter) | qualifying kinds | reading | threshold | "
            "due | clause | stated | alternative reading |",
            "|---|---|---|---|---|---|---|---|---|"]
    for t in profile.targets.values():
        flt = ", ".join(f"{k} = {v}" for k, v in t.filter)
        unit = t.unit + (f" (proxy: {t.fallback_unit})" if t.fallback_unit else "")
        what = f"{t.measure} over {unit}" + (f" ({flt})" if flt else "")
        if t.attribute:
            what += f"; {t.attribute} ≥ {t.at_least:g}"
        due = (t.due or "none") + (" (assumption)" if t.due_assumption else "")
        reading = t.reading if t.measure == "coverage" else "—"
        rows.append("| " + " | ".join(_cell(c) for c in (
            f"`{t.id}` {t.label_en} ({t.label_zh})", what, ", ".join(t.kinds) or "—", reading,
            f"{100 * t.threshold:g} %", due, t.source.text(), _stated(profile, t),
            t.alternative)) + " |")
    return rows


def profile_section(profile: Profile) -> str:
    """Markdown for one profile: its documents, rules and targets."""
    cited = {item.source.doc for _, item in profile.items()}
    docs = "; ".join(f"`{d.id}` {d.title}" + (f" ({d.file})" if d.file else "")
                     for d in profile.documents.values() if d.id in cited)
    lines = [f"### {profile.name} {profile.name_zh}", "",
             f"{profile.description} Inherits: {' → '.join(profile.chain)}.", "",
             f"Documents: {docs}.", "", "Rules:", "", *_rule_rows(profile), "",
             "Targets:", "", *_target_rows(profile), ""]
    return "\n".join(lines)


def _vocabulary() -> str:
    lines = ["| measure | definition |", "|---|---|"]
    lines += [f"| `{k}` | {_cell(v)} |" for k, v in MEASURES.items()]
    lines += ["", "| unit | counts |", "|---|---|"]
    lines += [f"| `{k}` | {zh}: {en} |" for k, (zh, en) in UNITS.items()]
    lines += ["", "| reading | meaning |", "|---|---|"]
    lines += [f"| `{k}` | {v} |" for k, v in TARGET_READINGS.items()]
    return "\n".join(lines)


def render() -> str:
    """The whole of docs/standards.md: the template with the vocabulary and every profile."""
    sections = "\n".join(profile_section(load_profile(n)) for n in list_profiles())
    text = TEMPLATE.read_text(encoding="utf-8")
    text = text.replace("<!-- vocabulary (generated) -->", _vocabulary())
    return text.replace(_PLACEHOLDER, sections.rstrip("\n"))


if __name__ == "__main__":
    sys.stdout.write(render())
