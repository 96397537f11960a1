"""casecheck: procedure-compliance engine for administrative law-enforcement case files.

Data flows one way: file → model (``engine.model``) → facts (``engine.facts``) →
rules (``engine.rulebook`` + the fenced ``engine.durable``) and workflow replay
(``engine.workflow``) → findings (``engine.findings``) → report (``engine.report``).
Nothing in the engine prints; the CLI (``engine.cli``) and the renderers do.
"""

__version__ = "0.1.0"
