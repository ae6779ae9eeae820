"""Fingerprints of files and of the libraries that read them: one definition for the importer (a file seen
before), the model cards (an artifact and its training data) and the loaders that check them."""

from __future__ import annotations

import hashlib
import platform
from pathlib import Path


def file_sha256(path: str | Path) -> str:
    """Streamed in 1 MiB blocks: imports and model artifacts can be hundreds of megabytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """The versions a pickled scikit-learn model depends on; a card records them and a loader compares."""
    import joblib
    import numpy as np
    import sklearn

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "numpy": np.__version__,
            "joblib": joblib.__version__}
