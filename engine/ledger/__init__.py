"""Excel ledgers (台账, ``.xlsx``): one row per case, turned into casecheck/1 cases; and the template.

See ``read`` (layout, headers, rows), ``values`` (cell values as clerks write them), ``mapping``
(``rules/ledgers/*.yaml``: a district's headers and words), ``xlsx`` (the bounded streaming reader) and
``template`` (``casecheck ledger template``).
"""

from __future__ import annotations

from .mapping import FIELDS, load_mappings
from .read import MAX_ROWS, LedgerRow, read_ledger

COLUMNS = {key: zh for key, (zh, _, _) in FIELDS.items()}

__all__ = ["read_ledger", "LedgerRow", "COLUMNS", "MAX_ROWS", "FIELDS", "load_mappings"]
