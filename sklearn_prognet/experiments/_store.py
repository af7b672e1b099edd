# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The results folder: configuration, append-only fit records, resumption.

Layout of a results folder::

    config.json   settings of the run, their hash, package versions
    fits.jsonl    one JSON line per finished fit (scores and learning curve)
    .lock         held (flock) by the run that writes to the folder
    ratings.csv.gz    the multitask experiment's ratings (its own file)
    report.md, *.png, scores.csv    written by the report

Every finished fit is appended to ``fits.jsonl`` as one complete line with a
single ``os.write`` on a file opened with ``O_APPEND``, then ``fsync``-ed. A
run killed at any moment (even with ``kill -9``) leaves at worst a partial
last line, which readers ignore and the next run terminates with a newline
before appending. A fit counts as done when its line is in the file, so a
restarted run skips exactly the fits that were saved.
"""

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from sklearn_prognet.experiments._folds import canonical_protocol
from sklearn_prognet.experiments._inputs import ExperimentInputError
from sklearn_prognet.utils._messages import Param

__all__ = [
    "ResultsStore",
    "config_hash",
    "package_versions",
    "read_config",
    "read_record_lines",
    "read_records",
    "write_atomic",
]

CONFIG_FILE = "config.json"
FITS_FILE = "fits.jsonl"
LOCK_FILE = ".lock"


def _jsonable(value):
    """Plain JSON types; non-finite floats become None (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return value


def config_hash(config):
    """SHA-256 (hex, 16 characters) of a JSON-able configuration dict."""
    import hashlib

    text = json.dumps(_jsonable(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def package_versions():
    """Versions of Python and of the packages that shape the results."""
    import platform
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for name in (
        "sklearn-prognet",
        "scikit-learn",
        "torch",
        "skorch",
        "numpy",
        "scipy",
        "pandas",
        "joblib",
        "opensmile",
        "dask",
        "distributed",
        "matplotlib",
    ):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _flatten(value, prefix=""):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): value}


def upgrade_config(saved):
    """A saved ``config.json`` in today's spelling (the file is left as is).

    Folders written before the protocol names were unified spell them with
    hyphens (``'speaker-stratified'``); read back, they compare equal to a run
    with today's names, so that they resume.
    """
    config = saved.get("config") if isinstance(saved, dict) else None
    if isinstance(config, dict) and "protocol" in config:
        saved = {**saved, "config": {**config}}
        saved["config"]["protocol"] = canonical_protocol(config["protocol"])
    return saved


def config_differences(saved, current):
    """Human-readable list of the settings that differ."""
    a, b = _flatten(_jsonable(saved)), _flatten(_jsonable(current))
    lines = []
    for key in sorted(set(a) | set(b)):
        if a.get(key, "<unset>") != b.get(key, "<unset>"):
            lines.append(
                f"  {key}: {a.get(key, '<unset>')!r} in the folder, "
                f"{b.get(key, '<unset>')!r} now"
            )
    return lines


def _umask():
    mask = os.umask(0)  # the only way to read it is to set it
    os.umask(mask)
    return mask


def named(exc, path):
    """``exc``, an OSError, naming ``path`` if it names no file.

    ``os.write`` and writes to an open file raise errors without a file name
    (``[Errno 28] No space left on device``); the message should say which
    file could not be written.
    """
    if exc.filename is not None or exc.errno is None:
        return exc
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))


def write_atomic(path, data):
    """Write bytes or text to ``path`` through a temporary file and a rename.

    An OSError names ``path``.
    """
    path = Path(path)
    try:
        _write_atomic(path, data)
    except OSError as exc:
        raise named(exc, path) from exc


def _write_atomic(path, data):
    if isinstance(data, str):
        data = data.encode()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates the file private (0600); give it the mode a plain
        # open() would, so that colleagues can read a shared results folder.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder):
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_record_lines(path):
    """Every record of a JSON-lines file, in file order, repeated keys included.

    Returns
    -------
    records : list of dict
        One dict per valid line holding a ``key``.
    n_bad : int
        Number of lines that were skipped (partial or corrupt).
    """
    path = Path(path)
    if not path.exists():
        return [], 0
    records, n_bad = [], 0
    with open(path, "rb") as f:
        for raw in f:
            line = raw.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except (ValueError, UnicodeDecodeError):
                n_bad += 1
                continue
            if not isinstance(record, dict) or "key" not in record:
                n_bad += 1
                continue
            records.append(record)
    return records, n_bad


def first_records(records):
    """The first record of every key, and the keys of the later ones dropped."""
    kept, seen, repeated = [], set(), []
    for record in records:
        if record["key"] in seen:
            repeated.append(record["key"])
            continue
        seen.add(record["key"])
        kept.append(record)
    return kept, repeated


def read_records(path):
    """Records of a JSON-lines file, skipping partial or corrupt lines.

    Returns
    -------
    records : list of dict
        One dict per valid line holding a ``key``; the first line of a key
        wins.
    n_bad : int
        Number of lines that were skipped.
    """
    records, n_bad = read_record_lines(path)
    return first_records(records)[0], n_bad


class ResultsStore:
    """A results folder written by one run at a time.

    Use it as a context manager: entering takes an exclusive lock on the
    folder (another run on the same folder is refused), checks or writes
    ``config.json`` and opens ``fits.jsonl`` for appending.

    Parameters
    ----------
    folder : str or os.PathLike
        The results folder (created if needed).
    config : dict
        Settings that determine the results. A folder that holds a run with
        other settings is refused.
    extra : dict, default=None
        Saved in ``config.json`` but not compared (runtime options, command
        line, versions).
    defaults : dict, default=None
        Settings that older folders did not save, with the value they had:
        added to a saved configuration that lacks them before comparing.
    """

    def __init__(self, folder, config, extra=None, defaults=None):
        self.folder = Path(folder)
        self.config = _jsonable(config)
        self.extra = _jsonable(extra or {})
        self.defaults = _jsonable(defaults or {})
        self.hash = config_hash(self.config)
        self._fd = None
        self._lock_fd = None

    @property
    def fits_path(self):
        """Path of ``fits.jsonl``."""
        return self.folder / FITS_FILE

    def __enter__(self):
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExperimentInputError(
                f"Cannot create the results folder {str(self.folder)!r}: {exc}"
            ) from None
        try:
            self._lock()
            self._check_config()
            self._open_fits()
        except OSError as exc:
            self.close()
            name = "" if exc.filename is None else f" {Path(exc.filename).name}"
            raise ExperimentInputError(
                f"Cannot write{name} in the results folder {str(self.folder)!r}: "
                f"{exc.strerror or exc}; choose another results folder (",
                Param("out"),
                ").",
            ) from None
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        """Close the fits file and release the lock."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def _lock(self):
        self._lock_fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._lock_fd)
            self._lock_fd = None
            raise ExperimentInputError(
                f"Another run is writing to {str(self.folder)!r}; wait for it to "
                "finish or use another results folder (",
                Param("out"),
                ").",
            ) from None

    def _check_config(self):
        path = self.folder / CONFIG_FILE
        if path.exists():
            try:
                saved = json.loads(path.read_text())
                saved_config = {**self.defaults, **upgrade_config(saved)["config"]}
            except (ValueError, KeyError, TypeError, OSError) as exc:
                raise ExperimentInputError(
                    f"{str(path)!r} is not a valid configuration ({exc}); use "
                    "another results folder (",
                    Param("out"),
                    ").",
                ) from None
            if config_hash(saved_config) != self.hash:
                diff = config_differences(saved_config, self.config)
                raise ExperimentInputError(
                    f"The results folder {str(self.folder)!r} holds a run with other "
                    "settings:\n"
                    + "\n".join(diff)
                    + "\nRerun with the saved settings (see config.json) to resume "
                    "it, or choose another results folder (",
                    Param("out"),
                    ").",
                )
            analysis = self.extra.get("analysis")
            if analysis is not None and saved.get("analysis") != analysis:
                # The statistics of the latest run are those the ``report``
                # command reuses.
                saved["analysis"] = analysis
                write_atomic(path, json.dumps(saved, indent=2) + "\n")
            return
        if self.fits_path.exists() and self.fits_path.stat().st_size:
            raise ExperimentInputError(
                f"{str(self.folder)!r} holds {FITS_FILE} but no {CONFIG_FILE}; "
                "choose another results folder (",
                Param("out"),
                ").",
            )
        content = {"config": self.config, "config_hash": self.hash, **self.extra}
        write_atomic(path, json.dumps(content, indent=2, sort_keys=False) + "\n")

    def _open_fits(self):
        self._fd = os.open(
            self.fits_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644
        )
        size = os.fstat(self._fd).st_size
        if size:
            with open(self.fits_path, "rb") as f:
                f.seek(size - 1)
                last = f.read(1)
            if last != b"\n":
                # A run was killed while writing its last line: end that
                # fragment so that it stays one (ignored) line of its own.
                self._write(b"\n")

    def _write(self, data):
        view = memoryview(data)
        try:
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
            os.fsync(self._fd)
        except OSError as exc:
            raise named(exc, self.fits_path) from exc

    def records(self):
        """The saved records (see :func:`read_records`)."""
        return read_records(self.fits_path)[0]

    def append(self, record):
        """Append one record as one line, durably."""
        line = json.dumps(_jsonable(record), separators=(",", ":"), allow_nan=False)
        self._write(line.encode() + b"\n")


def read_config(folder):
    """The content of ``config.json`` of a results folder."""
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise ExperimentInputError(
            f"{str(Path(folder))!r} is not a results folder: it has no {CONFIG_FILE}."
        )
    try:
        saved = json.loads(path.read_text())
    except ValueError as exc:
        raise ExperimentInputError(f"{str(path)!r} is not valid JSON: {exc}") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("config"), dict):
        raise ExperimentInputError(f"{str(path)!r} has no 'config' object.")
    return upgrade_config(saved)
