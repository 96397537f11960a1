"""Workflow diagrams: Mermaid ``stateDiagram-v2`` text and a transition table, with a case's path
highlighted (the states it passed through, and the steps it took)."""

from __future__ import annotations

from typing import Sequence

from rich.table import Table

from .vocab import label
from .workflow import Workflow

__all__ = ["mermaid", "transition_table"]


def _taken(workflow: Workflow, events: Sequence[tuple[str, int]]) -> set[tuple[str, str, str]]:
    return {(s.state_before, s.event_type, s.state_after) for s in workflow.replay(events) if s.allowed}


def mermaid(workflow: Workflow, lang: str = "zh", events: Sequence[tuple[str, int]] = ()) -> str:
    """The workflow as Mermaid; with ``events``, the states and steps of that case are highlighted
    (class ``visited``, and taken transitions marked ✔)."""
    taken = _taken(workflow, events)
    visited = set(workflow.path(events)) if events else set()
    lines = ["stateDiagram-v2", f"    %% {workflow.title.get(lang, workflow.name)}"]
    for st in workflow.states:
        lines.append(f'    state "{st[lang]}" as {st["name"]}')
    lines.append(f"    [*] --> {workflow.initial}")
    for t in workflow.transitions:
        for source in t.sources:
            dest = t.dest or source
            mark = " ✔" if (source, t.trigger, dest) in taken else ""
            guard = f" [{len(t.guards)} guards]" if t.guards and lang == "en" else \
                (f" [{len(t.guards)}条规则把关]" if t.guards else "")
            lines.append(f"    {source} --> {dest}: {label(t.trigger, lang)}{guard}{mark}")
    if visited:
        lines.append("    classDef visited fill:#fde68a,stroke:#b45309,stroke-width:2px")
        lines.append("    class " + ",".join(sorted(visited)) + " visited")
    return "\n".join(lines)


def transition_table(workflow: Workflow, lang: str = "zh", events: Sequence[tuple[str, int]] = ()) -> Table:
    zh = lang == "zh"
    taken = _taken(workflow, events)
    table = Table(title=workflow.title.get(lang, workflow.name), show_lines=False)
    for col in (("从", "from"), ("步骤", "step"), ("到", "to"), ("把关规则", "guard rules")):
        table.add_column(col[0] if zh else col[1], overflow="fold")
    if events:
        table.add_column("本案" if zh else "this case", justify="center")
    for t in workflow.transitions:
        for source in t.sources:
            dest = t.dest or source
            row = [workflow.state_label(source, lang), label(t.trigger, lang),
                   workflow.state_label(dest, lang) if t.dest else ("（不变）" if zh else "(stays)"),
                   "\n".join(t.guards)]
            if events:
                row.append("●" if (source, t.trigger, dest) in taken else "")
            table.add_row(*row, style="bold yellow" if events and (source, t.trigger, dest) in taken else None)
    return table
