# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""A pretrained speaker encoder as features and as a transfer source (#30).

Compares, on EmoDB and URDU (4 classes, speaker-independent folds), three
feature sets: the 88 eGeMAPS functionals, the 256-d utterance embeddings
("d-vectors") of the GE2E speaker encoder of ``resemblyzer`` (pretrained on
thousands of speakers), and both side by side; two normalisations (global
z-scores fitted on the training speakers, per-speaker z-scores with
:class:`~sklearn_prognet.SpeakerStandardScaler`); and the models: logistic
regression, the DNN (``SMALL_CORPUS`` preset), PT/FT, ProgNet and residual
adapters with speaker and gender source tasks, and the progressive network
whose frozen source column reads the d-vector while the trained column reads
eGeMAPS (``input_columns``).

Every model is scored by its unweighted average recall (UAR) on the held-out
speakers of :class:`~sklearn_prognet.model_selection.RepeatedStratifiedGroupKFold`
(``protocol='speaker_independent'``); the corrected repeated-CV t-test
compares each model with logistic regression and with the DNN on eGeMAPS of
the same corpus and normalisation, fold by fold.

Phases (``--phase``): ``features`` (eGeMAPS and d-vectors of every file,
cached in ``--cache``), ``run`` (every cell; results are appended per cell to
``results.jsonl`` in ``--out``, and a finished cell is never recomputed) and
``report`` (``results.json`` and ``table.md`` from the results and the run's
settings: ``table.rst`` and ``settings.rst`` are what the docs page
includes; they are copied to ``docs/user_guide/speaker_encoder_table.txt``
and ``speaker_encoder_settings.txt`` by hand, the script writes nothing
under ``docs/``). ``--phase all`` runs the three. By default ``--out`` is
``results/study_speaker_encoder`` and ``--cache`` its ``cache`` folder.

Run it with::

    python benchmarks/study_speaker_encoder.py --phase all \\
        --root ../shared/corpora --cache /tmp/speaker-encoder-cache \\
        --out /tmp/speaker-encoder
"""

import argparse
import json
import sys
import time
import types
import warnings
from pathlib import Path

import numpy as np

CORPORA = ("emodb", "urdu")


def _import_resemblyzer():
    """``VoiceEncoder, preprocess_wav`` of resemblyzer.

    resemblyzer imports ``pkg_resources`` only to read its own version;
    recent setuptools no longer ship it, so a stand-in answers that question.
    """
    if "pkg_resources" not in sys.modules:
        shim = types.ModuleType("pkg_resources")
        shim.get_distribution = lambda name: types.SimpleNamespace(version="0.1.4")
        sys.modules["pkg_resources"] = shim
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from resemblyzer import VoiceEncoder, preprocess_wav
    return VoiceEncoder, preprocess_wav


def load(name, root, cache):
    """eGeMAPS, d-vectors, emotions, speakers and genders of a corpus."""
    from sklearn_prognet.experiments import load_corpus

    spec = {"emodb": f"emodb:{root}/emodb", "urdu": f"urdu:{root}/urdu"}[name]
    # URDU is recorded at 44.1 kHz, EmoDB at 16 kHz: eGeMAPS at one rate, as
    # the multi-corpus experiment does (--resample 16000).
    resample = 16000 if name == "urdu" else None
    corpus = load_corpus(spec, resample=resample, cache_dir=cache)
    dvectors = _dvectors(corpus.files, Path(cache) / f"dvectors_{name}.npz")
    return {
        "egemaps": np.asarray(corpus.X, dtype=np.float64),
        "dvector": dvectors,
        "emotion": np.asarray(corpus.emotion).astype(str),
        "speaker": np.asarray(corpus.speaker).astype(str),
        "gender": np.asarray(corpus.gender).astype(str),
    }


def _dvectors(files, path):
    """The d-vector of every file, computed once and cached in ``path``."""
    files = [str(f) for f in files]
    if path.exists():
        cached = np.load(path)
        if list(cached["files"]) == files:
            return cached["X"]
    VoiceEncoder, preprocess_wav = _import_resemblyzer()
    encoder = VoiceEncoder("cpu", verbose=False)
    # resemblyzer resamples every file to 16 kHz itself
    X = np.stack([encoder.embed_utterance(preprocess_wav(f)) for f in files])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, X=X.astype(np.float64), files=np.array(files))
    return X.astype(np.float64)


# -- the models ---------------------------------------------------------------

# (name, feature set the model reads, method, source task). Feature sets are
# column blocks of the fused table [eGeMAPS | d-vector]; "dvec-source" is
# the progressive network whose frozen source column reads the d-vector and
# whose trained column reads eGeMAPS (input_columns on the fused table).
MODELS = (
    ("logreg", "egemaps", "logreg", None),
    ("logreg", "dvector", "logreg", None),
    ("logreg", "fused", "logreg", None),
    ("dnn", "egemaps", "dnn", None),
    ("dnn", "dvector", "dnn", None),
    ("dnn", "fused", "dnn", None),
    ("dnn-paper", "egemaps", "dnn-paper", None),
    ("dnn-paper", "fused", "dnn-paper", None),
    *(
        (f"{method}-{task}", features, method, task)
        for features in ("egemaps", "fused")
        for method in ("ptft", "prognet", "adapter")
        for task in ("speaker", "gender")
    ),
    *(
        (f"dvec-source-{task}", "fused", "dvec-source", task)
        for task in ("speaker", "gender", "emotion")
    ),
)

LOGREG = {"C": 1.0, "max_iter": 5000}


def settings(args):
    """The run's settings: what the report states, and what a resume checks."""
    from sklearn_prognet.presets import PAPER, SMALL_CORPUS

    return {
        "corpora": list(args.corpora),
        "normalisations": ["global", "speaker"],
        "n_splits": args.n_splits,
        "n_repeats": args.n_repeats,
        "random_state": args.random_state,
        "network": {k: _plain(v) for k, v in SMALL_CORPUS.items()},
        "paper_network": {k: _plain(v) for k, v in PAPER.items()},
        "logreg": LOGREG,
        "models": [list(m) for m in MODELS],
    }


# What a finished cell's result depends on besides its own key (corpus,
# normalisation, model): a resumed run must share these. Corpora and models
# may be added.
_RESULT_SETTINGS = ("n_splits", "n_repeats", "random_state", "network", "logreg")


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def blocks(data):
    """The fused table and the column indices of every feature set."""
    n_egemaps = data["egemaps"].shape[1]
    X = np.hstack([data["egemaps"], data["dvector"]])
    every = np.arange(X.shape[1])
    return X, {
        "egemaps": every[:n_egemaps],
        "dvector": every[n_egemaps:],
        "fused": every,
    }


def normalised(X, speakers, train, test, normalisation):
    """``X[train], X[test]``: global z-scores of the training rows, or per speaker.

    Per-speaker z-scores use every speaker's own (unlabelled) rows, the
    usual per-speaker normalisation, also for the test speakers.
    """
    if normalisation == "speaker":
        import pandas as pd

        from sklearn_prognet import SpeakerStandardScaler

        frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
        frame["speaker"] = speakers
        Z = np.asarray(SpeakerStandardScaler().fit_transform(frame), dtype=np.float64)
        return Z[train], Z[test]
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X[train])
    return scaler.transform(X[train]), scaler.transform(X[test])


def network(method, task, columns, seed):
    """An unfitted network of ``method`` over an unfitted source (if any)."""
    from sklearn_prognet import (
        DNNClassifier,
        FineTunedClassifier,
        ProgressiveNetClassifier,
        ResidualAdapterClassifier,
    )
    from sklearn_prognet.presets import SMALL_CORPUS

    params = {**SMALL_CORPUS, "random_state": seed}
    if method == "dnn":
        return DNNClassifier(**params)
    if method == "dnn-paper":
        # the estimators' defaults: the paper's network, early stopping on
        # held-out training speakers (groups)
        return DNNClassifier(random_state=seed)
    if method == "dvec-source":
        source = DNNClassifier(**params, input_columns=columns["dvector"])
        return ProgressiveNetClassifier(
            sources=[source], input_columns=columns["egemaps"], **params
        )
    source = DNNClassifier(**params)
    if method == "ptft":
        return FineTunedClassifier(source=source, **params)
    if method == "prognet":
        return ProgressiveNetClassifier(sources=[source], **params)
    return ResidualAdapterClassifier(source=source, **params)


def run_model(model, data, folds, normalisation, seed):
    """UAR of one model on every fold, with the folds' sizes."""
    from sklearn.linear_model import LogisticRegression

    from sklearn_prognet.metrics import uar_score
    from sklearn_prognet.model_selection import fit_batched

    _, features, method, task = model
    X, columns = blocks(data)
    y, speakers = data["emotion"], data["speaker"]
    # the d-vector source reads the fused table; every other model its block
    cols = columns["fused"] if method == "dvec-source" else columns[features]
    parts = [normalised(X, speakers, tr, te, normalisation) for tr, te in folds]
    parts = [(Xtr[:, cols], Xte[:, cols]) for Xtr, Xte in parts]
    if method == "logreg":
        predictions = [
            LogisticRegression(**LOGREG).fit(Xtr, y[tr]).predict(Xte)
            for (Xtr, Xte), (tr, _) in zip(parts, folds, strict=True)
        ]
    else:
        local = {k: np.searchsorted(cols, v) for k, v in columns.items()}
        nets = [network(method, task, local, seed + i) for i in range(len(folds))]
        fits = []
        for (Xtr, _), (tr, _) in zip(parts, folds, strict=True):
            fit = {"X": Xtr.astype(np.float32), "y": y[tr], "groups": speakers[tr]}
            if task is not None:
                fit["source_y"] = data[task][tr]
            fits.append(fit)
        fit_batched(nets, fits, n_jobs=1)
        predictions = [
            net.predict(Xte.astype(np.float32))
            for net, (_, Xte) in zip(nets, parts, strict=True)
        ]
    return {
        "uar": [
            float(uar_score(y[te], p))
            for p, (_, te) in zip(predictions, folds, strict=True)
        ],
        "n_train": [int(len(tr)) for tr, _ in folds],
        "n_test": [int(len(te)) for _, te in folds],
    }


def model_key(model):
    """The name of a model in the results: ``method[-task]@features``."""
    return f"{model[0]}@{model[1]}"


def run(args):
    """Run every unfinished (corpus, normalisation, model) cell; append results."""
    import torch

    from sklearn_prognet.model_selection import RepeatedStratifiedGroupKFold

    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = json.loads(json.dumps(settings(args)))
    saved = out / "settings.json"
    if _results(out) and any(
        json.loads(saved.read_text()).get(key) != config[key]
        for key in _RESULT_SETTINGS
    ):
        raise SystemExit(
            f"{out} holds results of a run with other settings "
            f"({saved}); pass another --out."
        )
    saved.write_text(json.dumps(config, indent=2))
    done = {(r["corpus"], r["normalisation"], r["model"]) for r in _results(out)}
    for corpus in args.corpora:
        data = load(corpus, args.root, args.cache)
        cv = RepeatedStratifiedGroupKFold(
            n_splits=args.n_splits,
            n_repeats=args.n_repeats,
            protocol="speaker_independent",
            random_state=args.random_state,
        )
        folds = list(cv.split(data["egemaps"], data["emotion"], data["speaker"]))
        for normalisation in config["normalisations"]:
            for model in MODELS:
                key = (corpus, normalisation, model_key(model))
                if key in done:
                    continue
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    result = run_model(
                        model, data, folds, normalisation, args.random_state
                    )
                result.update(
                    corpus=corpus,
                    normalisation=normalisation,
                    model=model_key(model),
                    seconds=round(time.perf_counter() - start, 1),
                )
                # one line per cell, flushed: an interrupted run resumes here
                with open(out / "results.jsonl", "a") as f:
                    f.write(json.dumps(result) + "\n")
                print(
                    f"{corpus} {normalisation} {model_key(model)}: "
                    f"UAR {np.mean(result['uar']):.3f} ({result['seconds']} s)",
                    flush=True,
                )


def _results(out):
    path = Path(out) / "results.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


# -- the report -----------------------------------------------------------------


def statistics(results):
    """Mean UAR and corrected t-tests of every cell (pure data, no formatting).

    Each model is compared, on the same folds, with logistic regression on
    the features it reads (the fused table for the d-vector source) and
    with the DNN on eGeMAPS.
    """
    from sklearn_prognet.stats import corrected_repeated_cv_ttest

    by_key = {(r["corpus"], r["normalisation"], r["model"]): r for r in results}
    rows = []
    for (corpus, normalisation, name), r in by_key.items():
        features = name.split("@")[1]
        row = {
            "corpus": corpus,
            "normalisation": normalisation,
            "model": name,
            "uar": float(np.mean(r["uar"])),
            "sd": float(np.std(r["uar"])),
            "n_folds": len(r["uar"]),
        }
        for label, ref in (("logreg", f"logreg@{features}"), ("dnn", "dnn@egemaps")):
            other = by_key.get((corpus, normalisation, ref))
            if other is None or ref == name:
                continue
            test = corrected_repeated_cv_ttest(
                r["uar"], other["uar"], n_train=r["n_train"], n_test=r["n_test"]
            )
            row[f"vs_{label}"] = {
                "reference": ref,
                "difference": test.mean_difference,
                "pvalue": test.pvalue,
            }
        rows.append(row)
    return rows


def describe(config):
    """The methods text of a run, from its configuration."""
    net = config["network"]
    return (
        f"{config['n_splits']}-fold speaker-independent cross-validation "
        f"repeated {config['n_repeats']} times (RepeatedStratifiedGroupKFold, "
        f"protocol='speaker_independent', random_state="
        f"{config['random_state']}), UAR of every fold. Networks: the "
        "SMALL_CORPUS preset ("
        + ", ".join(f"{k}={v}" for k, v in net.items())
        + "); sources are trained inside every fold on its training "
        "speakers, with the same settings. dnn-paper: the paper's network "
        "(the PAPER preset: "
        + ", ".join(f"{k}={v}" for k, v in config["paper_network"].items())
        + "), early stopping on held-out training speakers. Logistic "
        "regression: "
        + ", ".join(f"{k}={v}" for k, v in config["logreg"].items())
        + ". Delta: mean difference of UAR in points; p: corrected "
        "repeated-CV t-test (Nadeau and Bengio), two-sided."
    )


def cells(rows, config):
    """``(corpus, normalisation, rows of that cell)``, in the run's order."""
    for corpus in config["corpora"]:
        for normalisation in config["normalisations"]:
            cell = [
                r
                for r in rows
                if r["corpus"] == corpus and r["normalisation"] == normalisation
            ]
            if cell:
                yield corpus, normalisation, cell


def _columns(r):
    """The table's cells of one row."""
    name, features = r["model"].split("@")
    return [
        name,
        features,
        f"{100 * r['uar']:.1f} ± {100 * r['sd']:.1f}",
        *_versus(r.get("vs_logreg")),
        *_versus(r.get("vs_dnn")),
    ]


_HEADER = [
    "model",
    "features",
    "UAR (%)",
    "Delta vs logreg (same features)",
    "p",
    "Delta vs DNN on eGeMAPS",
    "p",
]


def rst(rows, config):
    """The tables as reST list-tables, for the docs page."""
    lines = []
    for corpus, normalisation, cell in cells(rows, config):
        lines += [
            f".. list-table:: {corpus}, {normalisation} normalisation "
            f"({cell[0]['n_folds']} folds)",
            "   :header-rows: 1",
            "",
        ]
        for values in [_HEADER, *map(_columns, cell)]:
            lines.append(f"   * - {values[0]}")
            lines += [f"     - {v}" for v in values[1:]]
        lines.append("")
    return "\n".join(lines)


def markdown(rows, config):
    """The Markdown tables and the settings, generated from the run's config."""
    lines = [f"Settings: {describe(config)}", ""]
    for corpus, normalisation, cell in cells(rows, config):
        lines += [
            f"**{corpus}, {normalisation} normalisation** ({cell[0]['n_folds']} folds)",
            "",
            "| " + " | ".join(_HEADER) + " |",
            "|" + "---|" * len(_HEADER),
        ]
        lines += ["| " + " | ".join(_columns(r)) + " |" for r in cell]
        lines.append("")
    return "\n".join(lines)


def _versus(test):
    if test is None:
        return ["–", "–"]
    return [f"{100 * test['difference']:+.1f}", f"{test['pvalue']:.3f}"]


def report(args):
    """Write ``results.json`` and ``table.md`` from the results so far."""
    out = Path(args.out)
    config = json.loads((out / "settings.json").read_text())
    rows = statistics(_results(out))
    (out / "results.json").write_text(
        json.dumps({"settings": config, "rows": rows}, indent=2)
    )
    text = markdown(rows, config)
    (out / "table.md").write_text(text + "\n")
    (out / "table.rst").write_text(rst(rows, config) + "\n")
    (out / "settings.rst").write_text(describe(config) + "\n")
    print(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--phase", choices=["features", "run", "report", "all"], default="all"
    )
    parser.add_argument(
        "--root",
        default=str(Path(__file__).resolve().parents[2] / "shared" / "corpora"),
    )
    parser.add_argument("--cache", default="results/study_speaker_encoder/cache")
    parser.add_argument("--out", default="results/study_speaker_encoder")
    parser.add_argument("--corpora", default=",".join(CORPORA))
    parser.add_argument("--n-splits", type=int, default=5)
    parser.add_argument("--n-repeats", type=int, default=10)
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    args.corpora = tuple(args.corpora.split(","))
    if args.phase in ("features", "all"):
        for corpus in args.corpora:
            load(corpus, args.root, args.cache)
    if args.phase in ("run", "all"):
        run(args)
    if args.phase in ("report", "all"):
        report(args)


if __name__ == "__main__":
    main()
