"""Save seaborn/matplotlib figures as PNG and PDF without timestamps (stable bytes)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from paperdag.io import atomic_path  # noqa: E402

sns.set_theme(style="whitegrid", context="paper")
plt.rcParams["svg.hashsalt"] = "paperdag"


def save_figure(fig: plt.Figure, stem: Path) -> list[Path]:
    """Write `stem`.png and `stem`.pdf and close the figure."""
    stem = Path(stem)
    out = []
    for suffix, meta in ((".png", {"Software": None}), (".pdf", {"CreationDate": None, "Producer": None})):
        path = stem.with_suffix(suffix)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=suffix[1:], metadata=meta, dpi=120, bbox_inches="tight")
        out.append(path)
    plt.close(fig)
    return out
