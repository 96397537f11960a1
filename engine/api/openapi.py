"""``python -m engine.api.openapi > docs/openapi.json``: the OpenAPI document the server publishes."""

from __future__ import annotations

import json
import sys
import tempfile


def main() -> None:
    from . import create_api_app, openapi_document

    with tempfile.TemporaryDirectory() as tmp:
        app = create_api_app(f"sqlite:///{tmp}/openapi.db")
        sys.stdout.write(json.dumps(openapi_document(app), ensure_ascii=False, indent=2) + "\n")
        app.state.casecheck_api.store.close()


if __name__ == "__main__":
    main()
