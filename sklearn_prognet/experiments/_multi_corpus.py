# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Multi-corpus transfer: every corpus in turn the target of the others.

For each target corpus, a source network (a DNN) is trained on the other
corpora pooled, each z-normalised on its own data. Arms, each with 8, 4, 2
and 1 target training folds (as Figure 4): a DNN on the target alone, the
source fine-tuned (PT/FT), a ProgNet with the source as frozen column,
residual adapters on the frozen source, and one multi-corpus network (a
shared trunk with adapters and an output layer per corpus, EmoNet-style)
trained jointly on the other corpora and the target's training folds.
"""

import io
import os
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from sklearn_prognet.experiments import _format, _skeleton, _stats, _transfer
from sklearn_prognet.experiments._execution import (
    log,
    parallel_context,
    threads_per_fit,
)
from sklearn_prognet.experiments._fits import (
    DEFAULT_NORMALIZATION,
    EXTRA_METHOD_LABELS,
    METHOD_LABELS,
    FitData,
    FitTask,
    NetworkWrapper,
    adapter_rank,
    derive_seed,
    feature_rows,
    make_scaler,
    per_speaker,
)
from sklearn_prognet.experiments._folds import make_folds
from sklearn_prognet.experiments._inputs import (
    Corpus,
    ExperimentInputError,
    describe_corpus,
    load_corpus,
    parse_spec,
)
from sklearn_prognet.experiments._options import Option
from sklearn_prognet.experiments._plots import plot_cross_corpus, plot_uar_vs_params
from sklearn_prognet.experiments._skeleton import run_experiment
from sklearn_prognet.experiments._store import write_atomic
from sklearn_prognet.utils._messages import Param

__all__ = ["run_multi_corpus"]

EXPERIMENT = "multi-corpus"
#: Method -> its name in reports, in the reports' order.
LABELS = {**METHOD_LABELS, **EXTRA_METHOD_LABELS}
MULTI_METHODS = tuple(LABELS)
#: What the joint network's early stopping scores (``joint_validation``).
JOINT_VALIDATIONS = ("pooled", "target")
#: The comparisons of each target and training size: (a, b) tests a - b.
COMPARISONS = (
    ("ptft", "dnn"),
    ("prognet", "dnn"),
    ("adapter", "dnn"),
    ("multicorpus", "dnn"),
    ("adapter", "prognet"),
)
# The row of the pooled source network applied to the target, not adapted.
_ZERO_SHOT = ("source", "Source network, not adapted")


def source_key(target):
    """The key of the record of ``target``'s pooled source network.

    Examples
    --------
    >>> from sklearn_prognet.experiments._multi_corpus import source_key
    >>> source_key("emodb")
    'source/emodb'
    """
    return f"source/{target}"


def fit_key(target, n_train_folds, repeat, fold, method):
    """The key of a fit in ``fits.jsonl`` (the one home of its format).

    Examples
    --------
    >>> from sklearn_prognet.experiments._multi_corpus import fit_key
    >>> fit_key("urdu", 4, 0, 3, "adapter")
    'urdu/t4/r00/f03/adapter'
    """
    return f"{target}/t{n_train_folds}/r{repeat:02d}/f{fold:02d}/{method}"


def arm_name(target, method, n_train_folds):
    """The arm of a method on a target with some training folds.

    Examples
    --------
    >>> from sklearn_prognet.experiments._multi_corpus import arm_name
    >>> arm_name("nemo", "multicorpus", 2)
    'nemo/multicorpus@2'
    """
    return f"{target}/{method}@{n_train_folds}"


def pooled_name(corpora, target):
    """The name of the pooled source corpora of ``target``: the others, joined.

    Examples
    --------
    >>> from sklearn_prognet.experiments._multi_corpus import pooled_name
    >>> pooled_name(["emodb", "urdu", "nemo"], "urdu")
    'emodb+nemo'
    """
    return "+".join(c for c in corpora if c != target)


def own_scaled(X, corpus_of_row, speaker=None):
    """Each corpus's rows z-normalised on that corpus's own mean and std.

    The normalisation of the source network and of the other corpora in the
    multi-corpus network (dataset-specific normalisation); constant features
    are centred only, as :class:`~sklearn.preprocessing.StandardScaler` does.
    With ``speaker`` (per-speaker normalisation), every speaker of a corpus
    is standardised on their own rows instead, by a
    :class:`~sklearn_prognet.preprocessing.SpeakerStandardScaler` fitted on
    that corpus alone, so that a speaker with too few rows falls back to
    their own corpus's statistics, not to a mixture of corpora.
    """
    out = np.empty_like(X, dtype=np.float64)
    for corpus in np.unique(corpus_of_row):
        rows = corpus_of_row == corpus
        if speaker is not None:
            frame = feature_rows(X, speaker, rows, "speaker")
            out[rows] = make_scaler("speaker").fit_transform(frame)
            continue
        mean, std = X[rows].mean(axis=0), X[rows].std(axis=0)
        out[rows] = (X[rows] - mean) / np.where(std > 0, std, 1.0)
    return out


def corpus_speakers(corpora):
    """Every row's speaker, prefixed with its corpus (``'emodb:03'``).

    Speaker ids are only unique within a corpus: without the prefix, two
    corpora's speaker ``'1'`` would be one speaker to a per-speaker scaler.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_prognet.experiments import load_corpus
    >>> from sklearn_prognet.experiments._multi_corpus import corpus_speakers
    >>> corpus_speakers([load_corpus("emodb")])[:2].tolist()
    ['emodb:03', 'emodb:03']
    """
    return np.concatenate(
        [np.asarray([f"{c.name}:{s}" for s in c.speaker], dtype=object)
         for c in corpora]
    )  # fmt: skip


class JointNetwork(NetworkWrapper, ClassifierMixin, BaseEstimator):
    """A multi-corpus network for one target, trained with the other corpora.

    ``fit(X, y, X_val, y_val)`` gets the target's training rows and its
    validation fold (normalised on the training rows by the fit's pipeline)
    and trains a :class:`~sklearn_prognet.MultiCorpusClassifier` on the
    training rows together with ``other_X`` (the other corpora, each
    normalised on its own data); it never sees the target's test rows.
    ``validation`` says what early stopping scores: ``'pooled'``, 10% of
    the training rows held out, stratified by corpus and class (the target's
    validation fold is not used); ``'target'``, the target's validation
    fold, as for the other methods (all training rows train).
    ``predict`` uses the target's output layer.
    """

    def __init__(self, *, other_X, other_y, other_corpus, target, network,
                 validation="pooled", random_state=None):  # fmt: skip
        self.other_X = other_X
        self.other_y = other_y
        self.other_corpus = other_corpus
        self.target = target
        self.network = network
        self.validation = validation
        self.random_state = random_state

    def _frame(self, X, corpus):
        frame = pd.DataFrame(np.asarray(X, dtype=np.float64))
        frame.columns = [f"x{i}" for i in range(frame.shape[1])]
        frame["corpus"] = corpus
        return frame

    # The three methods below declare the network that fit trains (see
    # NetworkWrapper): the batched engine trains it with the other methods'.

    def inner_estimator(self):
        """The unfitted :class:`~sklearn_prognet.MultiCorpusClassifier` of ``fit``."""
        from sklearn_prognet.networks._adapters import MultiCorpusClassifier

        return MultiCorpusClassifier(
            adapter_rank=adapter_rank(self.network),
            **self.network,
            random_state=self.random_state,
        )

    def inner_fit_arguments(self, X, y, X_val=None, y_val=None):
        """The classifier's fit arguments: the other corpora and the target's rows."""
        corpus = np.concatenate(
            [np.asarray(self.other_corpus, dtype=object),
             np.full(len(y), self.target, dtype=object)]
        )  # fmt: skip
        frame = self._frame(np.vstack([self.other_X, X]), corpus)
        labels = np.concatenate([np.asarray(self.other_y), np.asarray(y)])
        if self.validation == "pooled":
            return {"X": frame, "y": labels}
        if X_val is None:
            raise ValueError(
                "validation='target' stops on the target's validation fold: "
                "pass it as X_val and y_val."
            )
        X_val = self._frame(X_val, np.full(len(X_val), self.target, dtype=object))
        return {"X": frame, "y": labels, "X_val": X_val, "y_val": np.asarray(y_val)}

    def set_inner_fitted(self, network, arguments):
        """Adopt the fitted classifier and the rows of each corpus; return self."""
        super().set_inner_fitted(network, arguments)
        names, counts = np.unique(arguments["X"]["corpus"], return_counts=True)
        self._record_fields = {
            "n_train_joint": int(len(arguments["y"])),
            "n_train_by_corpus": dict(zip(names, counts.tolist(), strict=True)),
        }
        return self

    def record_fields(self, X):
        """The rows each corpus gave to training, for the fit's record."""
        return dict(self._record_fields)

    def predict(self, X):
        """Predict with the target's output layer."""
        return self.net_.predict(self._frame(X, self.target))


class JointNetworks:
    """Builds the multi-corpus network of a task (``FitData.networks``)."""

    def __init__(self, scaled, y, corpus_of_row, validation="pooled"):
        self.scaled = scaled
        self.y = y
        self.corpus_of_row = corpus_of_row
        self.validation = validation

    def __call__(self, task, params):
        """The network of a ``multicorpus`` task."""
        if task.method != "multicorpus":  # pragma: no cover - built here
            raise ValueError(f"Unknown method {task.method!r}.")
        others = self.corpus_of_row != task.target
        return JointNetwork(
            other_X=self.scaled[others],
            other_y=self.y[others],
            other_corpus=self.corpus_of_row[others],
            target=task.target,
            network=dict(params),
            validation=self.validation,
            random_state=task.random_state,
        )


def check_corpora_list(corpora):
    """Refuse fewer than 2 corpora."""
    if isinstance(corpora, (str, Corpus)) or len(corpora) < 2:
        raise ExperimentInputError(
            Param("corpora", corpora),
            ": give a list of at least 2 corpora (each is the "
            "target of the others in turn).",
        )


def load_corpora(specs, options):
    """The corpora, with the first one's features, checked to suit each other."""
    corpora = [load_corpus(spec, **options.corpus_options()) for spec in specs]
    names = [c.name for c in corpora]
    if len(set(names)) < len(names):
        raise ExperimentInputError(
            Param("corpora", list(map(str, specs))),
            f" name the corpora {names}: each name "
            "must be different (a feature table's name is its 'corpus' column or "
            "file name).",
        )
    for corpus in corpora[1:]:
        if sorted(set(corpus.emotion)) != sorted(set(corpora[0].emotion)):
            raise ExperimentInputError(
                f"Corpora {corpora[0].name!r} and {corpus.name!r} have different "
                f"emotions: {sorted(set(corpora[0].emotion))} and "
                f"{sorted(set(corpus.emotion))}; choose common ones (",
                Param("emotions"),
                ").",
            )
    corpora = [corpora[0]] + [
        _transfer.align_features(corpora[0], c) for c in corpora[1:]
    ]
    for i, a in enumerate(corpora):
        for b in corpora[i + 1 :]:
            _transfer.check_disjoint(a, b)
            _transfer.check_sampling_rates(a, b, options.resample)
        if len(np.unique(a.speaker)) < 2:
            raise ExperimentInputError(
                f"Corpus {a.name!r} has a single speaker; a source network holds "
                "out whole speakers for early stopping, so it needs at least 2."
            )
        if options.verbose:
            log(describe_corpus(a))
    return corpora


def _target_tasks(corpus, offset, names, train_folds, options):
    """The fit tasks of one target corpus, indexing the pooled rows."""
    tasks, notes = [], []
    for n in train_folds:
        folds, new = make_folds(corpus, **options.fold_options(), n_train_folds=n)
        notes += new
        for f in folds:
            for method in MULTI_METHODS:
                arm = arm_name(corpus.name, method, n)
                tasks.append(FitTask(
                    key=fit_key(corpus.name, n, f.repeat, f.fold, method),
                    method=method, repeat=f.repeat, fold=f.fold,
                    n_train_folds=n, train=f.train + offset,
                    validation=f.validation + offset, test=f.test + offset,
                    random_state=derive_seed(options.seed, f.repeat, f.fold, arm),
                    source_corpus=None if method == "dnn"
                    else pooled_name(names, corpus.name),
                    target=corpus.name,
                ))  # fmt: skip
    return tasks, notes


def pooled_source_corpus(corpora, target, normalization=DEFAULT_NORMALIZATION):
    """The other corpora as one corpus, each z-normalised on its own data.

    Speakers are prefixed with their corpus (:func:`corpus_speakers`), so
    that speakers of different corpora with the same id stay apart. With
    ``normalization='speaker'`` every speaker is standardised on their own
    utterances (see :func:`own_scaled`).
    """
    others = [c for c in corpora if c.name != target]
    corpus_of_row = np.concatenate([np.full(c.n_samples, c.name) for c in others])
    speaker = corpus_speakers(others)
    X = own_scaled(np.vstack([c.X for c in others]), corpus_of_row,
                   speaker if per_speaker(normalization) else None)  # fmt: skip
    how = "per speaker" if per_speaker(normalization) else "on its own data"
    return Corpus(
        name=pooled_name([c.name for c in corpora], target),
        X=X,
        emotion=np.concatenate([c.emotion for c in others]),
        speaker=speaker,
        gender=None,
        feature_names=list(others[0].feature_names),
        description=f"the other corpora pooled, each z-normalised {how}",
    )


def _fit_pooled_source(corpora, target, network, seed, threads, settings):
    """Train ``target``'s source network; return it and its record."""
    protocol, normalization = settings
    pooled = pooled_source_corpus(corpora, target, normalization)
    # The pipeline's own scaler (per speaker again, or global) is close to
    # the identity on these rows; only its network is transferred.
    pipe, record = _transfer.fit_source_model(
        pooled, network, derive_seed(seed, "source-model", target), threads,
        protocol, normalization,
    )  # fmt: skip
    others = [c for c in corpora if c.name != target]
    record.update(
        key=source_key(target),
        experiment=EXPERIMENT,
        target=target,
        n_train_by_corpus={c.name: c.n_samples for c in others},
    )
    return pipe[-1], record


def source_file(target):
    """The file of ``target``'s pooled source network in the results folder."""
    return f"source_model_{target}.joblib"


def _source_networks(store, corpora, network, options):
    """Load the saved pooled source networks, or train and save them."""
    done = {r["key"] for r in store.records()}
    nets, todo = {}, []
    for corpus in corpora:
        path = store.folder / source_file(corpus.name)
        if source_key(corpus.name) in done and path.exists():
            nets[corpus.name] = joblib.load(path)
        else:
            todo.append(corpus.name)
    if todo:
        log(f"Training the pooled source networks of {', '.join(todo)}.")
        threads = threads_per_fit(options.torch_threads)
        with parallel_context(**options.parallel_options()) as jobs:
            fitted = joblib.Parallel(n_jobs=jobs)(
                joblib.delayed(_fit_pooled_source)(
                    corpora, target, network, options.seed, threads,
                    (options.protocol, options.normalization))
                for target in todo
            )  # fmt: skip
        for target, (net, record) in zip(todo, fitted, strict=True):
            buffer = io.BytesIO()
            joblib.dump(net, buffer)
            # the model file first, then the record that says it is done
            write_atomic(store.folder / source_file(target), buffer.getvalue())
            if record["key"] not in done:
                store.append(record)
            nets[target] = net
    names = [c.name for c in corpora]
    return {pooled_name(names, target): net for target, net in nets.items()}


class MultiCorpus(_skeleton.Experiment):
    """Every corpus the target of a network of the others, and of a joint one."""

    name = EXPERIMENT
    format_version = 1
    config_defaults = {
        **_skeleton.Experiment.config_defaults,
        "joint_validation": "pooled",
    }

    def __init__(self, corpora=None, train_folds=None, joint_validation="pooled"):
        self.corpora = corpora
        self.train_folds = train_folds
        self.joint_validation = joint_validation

    def check(self, options):
        """At least 2 corpora; a known ``joint_validation``."""
        check_corpora_list(self.corpora)
        if self.joint_validation not in JOINT_VALIDATIONS:
            raise ExperimentInputError(
                f"joint_validation={self.joint_validation!r} is not one of "
                f"{list(JOINT_VALIDATIONS)}."
            )

    def chunk(self, task):
        """One repeat of one target: a repeat of every target takes ~1 h on 2 cores."""
        return (task.repeat, task.target)

    def targets(self, config):
        """The target corpora of a run, in the order given."""
        return [c["name"] for c in config["corpora"]]

    def arms(self, config):
        """Every target, number of training folds and method."""
        return [
            _skeleton.Arm(arm_name(t, m, n), m, f"{t}: {LABELS[m]}, {n} training folds",
                None, n)
            for t in self.targets(config)
            for n in config["train_folds"]
            for m in MULTI_METHODS
        ]  # fmt: skip

    def arm_name(self, record):
        """``source/<target>``, or ``<target>/<method>@<training folds>``."""
        if record.get("method") == "source":
            return record["key"]
        return arm_name(record["target"], record["method"], record["n_train_folds"])

    def planned_keys(self, config):
        """The key of every fit, the pooled source networks' included."""
        return {
            fit_key(t, n, r, f, m)
            for t in self.targets(config)
            for n in config["train_folds"]
            for m in MULTI_METHODS
            for r in range(config["n_repeats"])
            for f in range(config["n_splits"])
        } | {source_key(t) for t in self.targets(config)}

    def plan(self, options, network):
        """Load the corpora, make every target's folds, plan the fits."""
        train_folds = _transfer.check_train_folds(self.train_folds, options.n_splits)
        corpora = load_corpora(self.corpora, options)
        names = [c.name for c in corpora]
        tasks, notes, offset = [], [], 0
        for corpus in corpora:
            new_tasks, new_notes = _target_tasks(
                corpus, offset, names, train_folds, options
            )
            tasks += new_tasks
            notes = list(dict.fromkeys(notes + new_notes))
            offset += corpus.n_samples
        return _skeleton.Plan(
            settings={
                "corpora": [_skeleton.corpus_id(c) for c in corpora],
                "train_folds": train_folds,
                "joint_validation": self.joint_validation,
            },
            emotions=sorted(set(corpora[0].emotion)),
            tasks=tasks,
            info={"corpora_info": [c.summary() for c in corpora]},
            notes=notes,
            state={"corpora": corpora, "network": network},
        )

    def row_speakers(self, plan):
        """The speakers of all corpora, in the order the tasks index them."""
        return corpus_speakers(plan.state["corpora"])

    def fit_data(self, store, plan, options):
        """Train (or load) the pooled source networks; share all corpora."""
        corpora, network = plan.state["corpora"], plan.state["network"]
        corpus_of_row = np.concatenate(
            [np.full(c.n_samples, c.name, dtype=object) for c in corpora]
        )
        X = np.vstack([c.X for c in corpora])
        y = np.concatenate([np.asarray(c.emotion) for c in corpora])
        speaker = corpus_speakers(corpora)
        by_speaker = per_speaker(options.normalization)
        # The other corpora's rows of every joint network, normalised once per
        # run: all of them train, so their own statistics are no leak. A
        # target's rows go through the fit's pipeline (training folds only).
        scaled = own_scaled(X, corpus_of_row, speaker if by_speaker else None)
        return FitData(
            X=X,
            y=y,
            network=network,
            lateral=options.lateral,
            experiment=self.name,
            normalization=options.normalization,
            speaker=speaker,
            source_networks=_source_networks(store, corpora, network, options),
            networks=JointNetworks(
                scaled, y, corpus_of_row, plan.settings["joint_validation"]
            ),
            record_predictions=True,
        )

    def summary_table(self, results, analysis):
        """Mean test UAR of every method, target and training size."""
        stats = statistics(results.scores, results.config, analysis)
        return "\n\n".join(
            f"**Target {t}**\n\n" + target_table(stats[t], results.config)
            for t in self.targets(results.config)
        )

    def report(self, folder, results, analysis):
        """Per target: the table, both figures and the tests; then training."""
        config = results.config
        stats = statistics(results.scores, config, analysis)
        lines = _introduction(self.status(results), results)
        for target in self.targets(config):
            lines += [f"## Target: {target}", "", target_table(stats[target], config),
                      ""]  # fmt: skip
            lines += _figure_lines(folder, target, stats[target], config)
            lines += ["### Significance tests", "",
                      comparisons_table(stats[target], analysis.alpha), ""]  # fmt: skip
        lines += [_format.table_note(_TABLE_NOTE, analysis), ""]
        lines += _training_lines(results, self.targets(config))
        return lines, _curve_rows(results, self.targets(config))


# -- statistics (data only) -------------------------------


def _zero_shot(frames, n_repeats):
    """The source network's test UAR on the target (saved with the transfers)."""
    for frame in frames:
        if frame is not None and "source_test_uar" in frame:
            zero = frame[["repeat", "fold", "source_test_uar", "n_train", "n_test"]]
            zero = zero.rename(columns={"source_test_uar": "uar"}).dropna()
            if len(zero):
                return _stats.summarize(zero, n_repeats)
    return None


def target_statistics(frames, *, n_repeats, alpha, ttest_df):
    """Summaries, parameters, t-tests and McNemar tests of one target.

    Parameters
    ----------
    frames : dict of (str, int) to DataFrame
        ``(method, training folds)`` -> the fits of that arm.

    Returns
    -------
    stats : dict
        ``summaries`` and ``params`` ((method, n) -> Summary or median
        trainable parameters), ``tests`` ((a, b, n) -> (t-test result or
        None, list of per-repeat McNemar results)) and ``marks``.
    """
    train_folds = sorted({n for _, n in frames}, reverse=True)
    out = {"summaries": {}, "params": {}, "tests": {}, "marks": {},
           "train_folds": train_folds}  # fmt: skip
    for (method, n), frame in frames.items():
        out["summaries"][method, n] = _stats.summarize(frame, n_repeats)
        if (params := _stats.median_params(frame)) is not None:
            out["params"][method, n] = params
    for n in train_folds:
        transfers = [frames.get((m, n)) for m in ("prognet", "ptft", "adapter")]
        out["summaries"]["source", n] = _zero_shot(transfers, n_repeats)
        for a, b in COMPARISONS:
            fa, fb = frames.get((a, n)), frames.get((b, n))
            out["tests"][a, b, n] = (_stats.paired_test(fa, fb, ttest_df),
                                     _stats.mcnemar_by_repeat(fa, fb))  # fmt: skip
        for method in MULTI_METHODS[1:]:
            against_dnn = out["tests"][method, "dnn", n][0]
            mark = "*" if _stats.is_better(against_dnn, alpha) else ""
            if method == "adapter" and _stats.is_better(
                out["tests"]["adapter", "prognet", n][0], alpha
            ):
                mark += "†"
            out["marks"][method, n] = mark
    return out


def statistics(scores, config, analysis):
    """Target -> :func:`target_statistics` of its fits."""
    frames = _skeleton.frames_by_arm(scores)
    return {
        target: target_statistics(
            {
                (m, n): frames.get(arm_name(target, m, n))
                for m in MULTI_METHODS
                for n in config["train_folds"]
            },
            n_repeats=config["n_repeats"],
            alpha=analysis.alpha,
            ttest_df=analysis.ttest_df,
        )  # fmt: skip
        for target in [c["name"] for c in config["corpora"]]
    }


# -- formatting (text only) -------------------------------


def target_table(stats, config):
    """Method × training folds: mean UAR ± std with marks, and parameters."""
    train_folds = config["train_folds"]
    header = ["Method", _format.PARAMS_HEADER] + [
        f"{n} training fold{'s' if n > 1 else ''}" for n in train_folds
    ]
    rows = []
    for method, label in (*LABELS.items(), _ZERO_SHOT):
        cells = [
            _format.score_cell(stats["summaries"].get((method, n)))
            + stats["marks"].get((method, n), "")
            for n in train_folds
        ]
        params = _format.params_cell(
            [v for (m, _), v in stats["params"].items() if m == method]
        )
        rows.append([label, params, *cells])
    return _format.md_table(header, rows, [":--", "--:"] + ["--:"] * len(train_folds))


def mcnemar_cells(results):
    """Discordant counts summed over repeats, and the repeats' p-values."""
    if not results:
        return ["–", "–"]
    b = sum(r.n_a_only for r in results)
    c = sum(r.n_b_only for r in results)
    return [f"{b}:{c}", ", ".join(_format.p_value(r.pvalue) for r in results)]


def comparisons_table(stats, alpha):
    """Corrected t-tests and McNemar tests of every comparison."""
    rows = []
    for n in stats["train_folds"]:
        for a, b in COMPARISONS:
            paired, mcnemar = stats["tests"][a, b, n]
            ttest = None if paired is None else paired.ttest
            cells = ["–"] * 4 if ttest is None else [
                f"{ttest.mean_difference:+.3f}", f"{ttest.statistic:.2f}",
                f"{ttest.df:g}", _format.p_value(ttest.pvalue)]  # fmt: skip
            mark = "yes" if ttest is not None and ttest.pvalue < alpha else ""
            rows.append([str(n), f"{LABELS[a]} vs {LABELS[b]}", *cells, mark,
                         *mcnemar_cells(mcnemar)])  # fmt: skip
    header = ["Training folds", "Comparison", "mean ΔUAR", "t", "df", "p",
              f"p < {alpha}", "McNemar a:b only", "McNemar p (per repeat)"]  # fmt: skip
    align = [":--", ":--", "--:", "--:", "--:", "--:", ":-:", "--:", "--:"]
    return _format.md_table(header, rows, align)


_TABLE_NOTE = (
    "Tables: mean test UAR ± mean within-repeat standard deviation of the fold "
    "UARs; " + _format.PARAMS_NOTE + " * significantly better than "
    "DNN with the same training folds; † (adapters) significantly better "
    "than ProgNet, whether or not better than DNN. Corrected repeated "
    "cross-validation t-test, two-sided, "
    "p < {alpha}, degrees of freedom: {df}. McNemar's test (exact below 25 "
    "discordant utterances, else chi-square with continuity correction) on the "
    "pooled test predictions of each repeat, where every target utterance is "
    "tested once: *a:b only* counts the utterances only the first (a) or only "
    "the second (b) method classifies correctly, summed over repeats; it "
    "compares accuracies, not UARs. *Source network, not adapted*: the pooled "
    "source network applied to the target's (target-normalised) test folds."
)


def _corpora_lines(results):
    infos = results.saved.get("corpora_info") or results.config["corpora"]
    return [f"- Corpus: {_format.corpus_text(info)}." if "n_speakers" in info
            else f"- Corpus: **{info['name']}**." for info in infos]  # fmt: skip


def _introduction(status, results):
    config = results.config
    names = [c["name"] for c in config["corpora"]]
    train_folds = "/".join(map(str, config["train_folds"]))
    return [
        f"# Multi-corpus transfer: {', '.join(names)}",
        "",
        "Each corpus in turn is the target. A source network (a DNN) is trained "
        "on the other corpora pooled and transferred to the target by "
        "pre-training / fine-tuning (PT/FT), as the frozen column of a "
        "progressive network (ProgNet), or frozen with residual adapters "
        "(Adapters, Rebuffi et al. 2017); the DNN is trained on the target "
        "alone; the multi-corpus network (EmoNet-style: a shared trunk with "
        "residual adapters and an output layer per corpus, Gerczuk et al. 2021) "
        "is trained jointly on the other corpora and the target's training "
        f"folds. The target is trained on {train_folds} of its training folds "
        "(as the paper's Figure 4).",
        "",
        f"- Status: {status}",
        *_corpora_lines(results),
        "- Protocol (each target): "
        + _format.protocol_text(config, train_folds)
        + " The kept training folds are nested, and every number of training "
        "folds uses the same test and validation folds.",
        "- Normalisation: " + _normalization_line(config),
        "- Leakage: a target's source network never sees that target; "
        + _joint_validation_line(config),
        f"- Networks: {_format.training_text(config)}.",
        f"- Seed {config['seed']}.",
        "",
    ]


def _joint_validation_line(config):
    if config["joint_validation"] == "target" and _format.stops_early(config):
        return (
            "its multi-corpus network trains on the target's training folds "
            "(not the validation or test fold) and stops early on the target's "
            "validation fold, as the other methods do."
        )
    if not _format.stops_early(config):
        return (
            "its multi-corpus network sees the target's training folds only (not "
            "the validation or test fold) and trains on all of its training rows, "
            "without early stopping."
        )
    return (
        "its multi-corpus network sees the target's training folds only (not "
        "the validation or test fold), and trains "
        f"{_format.held_out_text(config, 'its training rows')}, stratified by "
        "corpus and emotion (so its best epoch is chosen by the UAR over every "
        "corpus's held-out rows, mostly the other corpora's when the target is small; "
        "`joint_validation='target'` stops on the target's validation fold "
        "instead)."
    )


def _normalization_line(config):
    if _format.per_speaker_run(config):
        return (
            "every speaker is standardised on their own utterances, within "
            "their corpus (speaker ids are prefixed with the corpus): the "
            "other corpora's speakers (source networks, multi-corpus networks) "
            "on all of their utterances, the target's speakers on their "
            "training-fold utterances for training and on their test "
            "utterances for testing (transductive)."
        )
    return (
        "each corpus is z-normalised on its own data (dataset-specific): a "
        "target on the training folds of each step, the other corpora on all "
        "of their data."
    )


def _figure_rows(stats):
    rows = []
    for (method, n), summary in stats["summaries"].items():
        if summary is None:
            continue
        label = "source model" if method == "source" else LABELS[method]
        rows.append(
            {
                "label": label,
                "method": method,
                "n_train_folds": n,
                "mean": summary.mean,
                "std": summary.std,
                "params": stats["params"].get((method, n)),
                "better_than_dnn": "*" in stats["marks"].get((method, n), ""),
            }
        )
    return rows


def _figure_lines(folder, target, stats, config):
    """UAR against training folds, and against trainable parameters."""
    rows = _figure_rows(stats)
    if not rows:
        return []
    chance = 1.0 / len(config["emotions"])
    folds_png, params_png = f"multi_corpus_{target}.png", f"params_{target}.png"
    drawn = plot_cross_corpus(
        rows, os.path.join(folder, folds_png), chance=chance,
        title=f"Multi-corpus transfer to {target}")  # fmt: skip
    drawn_params = plot_uar_vs_params(
        [r for r in rows if r["params"] is not None],
        os.path.join(folder, params_png), chance=chance,
        title=f"{target}: test UAR against trainable parameters")  # fmt: skip
    lines = []
    if drawn:
        lines += [f"![UAR against training folds, {target}]({folds_png})", ""]
    if drawn_params:
        lines += [f"![UAR against trainable parameters, {target}]({params_png})",
                  ""]  # fmt: skip
    return lines


def _training_lines(results, targets):
    frames = _skeleton.frames_by_arm(results.scores)
    rows = []
    for target in targets:
        for method, label in LABELS.items():
            arms = [frames[a] for n in results.config["train_folds"]
                    if (a := arm_name(target, method, n)) in frames]  # fmt: skip
            if arms:
                s = _stats.epoch_summary(pd.concat(arms))
                cells = [f"{s[k]:.0f}" for k in ("best_epoch", "n_epochs")]
                rows.append([target, label, *cells, f"{s['fit_time']:.1f}"])
    if not rows:
        return []
    header = ["Target", "Method", "best epoch (mean)", "epochs run", "fit time (s)"]
    align = [":--", ":--"] + ["--:"] * 3
    table = _format.training_table(results.config, header, rows, align)
    return _format.section("Training", table)


def _curve_rows(results, targets):
    scores, rows = results.scores, []
    if scores.empty:
        return rows
    for target in targets:
        for n in results.config["train_folds"]:
            arms_labels = [(arm_name(target, m, n), arm_name(target, m, n))
                           for m in MULTI_METHODS]  # fmt: skip
            curves, _ = _stats.learning_curves(scores, results.histories, arms_labels)
            rows += _stats.curve_rows(
                curves, {label: label for _, label in arms_labels}
            )
    return rows


# Its normalisation is per corpus: said here, in place of the shared text.
_NORMALIZATION = """\
    normalization : {'global', 'speaker'}, default='global'
        ``'global'``: each corpus z-normalised on its own training data.
        ``'speaker'``: every speaker standardised on their own utterances
        within their corpus (speaker ids prefixed with the corpus): the other
        corpora's speakers on all of their utterances, the target's training
        speakers on their training-fold utterances and test speakers on
        their test utterances (transductive, as in the other experiments).
"""


@_skeleton.takes_run_options(own={"normalization": _NORMALIZATION})
def run_multi_corpus(
    out,
    corpora,
    *,
    train_folds=None,
    joint_validation="pooled",
    **options,
):
    """Run the multi-corpus transfer experiment: each corpus the target of the others.

    For every target corpus, a source network (a DNN) is trained on the
    other corpora pooled, each z-normalised on its own data. On the target,
    a repeated k-fold cross-validation (one test fold, one validation fold
    for early stopping) trains, on ``n`` of the training folds for every
    ``n`` in ``train_folds``: a DNN on the target alone; the source
    fine-tuned (PT/FT); a progressive network with the source as frozen
    column (ProgNet); the frozen source with residual adapters
    (:class:`~sklearn_prognet.ResidualAdapterClassifier`); and a
    :class:`~sklearn_prognet.MultiCorpusClassifier` trained jointly on the
    other corpora and the target's training folds. The report gives, per
    target, the test UAR, the trainable parameters, corrected repeated-CV
    t-tests, McNemar's tests on the pooled test predictions, and the UAR
    against training folds and against trainable parameters. Every fit is
    saved as it finishes (a killed run resumes).

    Parameters
    ----------
    out : str or os.PathLike
        Results folder (resumed if it holds a run with the same settings).
    corpora : sequence of str or Corpus
        At least two corpus specs (see :func:`load_corpus`), e.g.
        ``['emodb', 'urdu:/data/urdu', 'nemo_egemaps.csv.gz']``, with
        different names and the same emotions. They must share no utterance
        (the same file of the same speaker, or the same feature row), nor,
        for corpora of the same name, any speaker: the source networks train
        on all of the other corpora. The features are put in the first
        corpus's column order.
    train_folds : sequence of int, default=None
        Numbers of target training folds; None means
        :func:`default_train_folds` (8, 4, 2, 1 for 10 folds).
    joint_validation : {'pooled', 'target'}, default='pooled'
        What the multi-corpus network's early stopping scores. ``'pooled'``:
        10% of its training rows (the other corpora's and the target's
        training folds), held out stratified by corpus and emotion, so that
        the larger corpora decide its best epoch. ``'target'``: the target's
        validation fold, as for the other methods; all its training rows
        train.

        .. versionadded:: 0.1
    emotions : sequence of str, default=PAPER_EMOTIONS
        Emotion classes; every corpus must have them all.
    {run_parameters}
    seed : int, default=0
        Seed of the folds, of each target's source network and of every fit.
    {network_parameters}

    {returns}

    See Also
    --------
    run_cross_corpus : One source corpus, one target (Figure 4).
    render_report : Render the report of a results folder again.

    Examples
    --------
    >>> from sklearn_prognet.experiments import run_multi_corpus
    >>> result = run_multi_corpus(  # doctest: +SKIP
    ...     "results/multi", ["emodb", "urdu:../shared/corpora/urdu",
    ...     "nemo_egemaps.csv.gz"], n_splits=5, n_repeats=2, resample=16000)
    """
    options = _skeleton.RunOptions(**options)
    experiment = MultiCorpus(corpora, train_folds, joint_validation)
    return run_experiment(experiment, out, options)


def _corpus_list(text):
    """An argparse type: comma-separated corpus specs."""
    return [v.strip() for v in text.split(",") if v.strip()]


def _default_out(args):
    names = [parse_spec(spec)[1] for spec in args.corpora]
    return Path("results") / ("multi-corpus-" + "-".join(names))


_skeleton.register(
    MultiCorpus,
    _skeleton.Command(
        "multi-corpus",
        help="each corpus the target of the others pooled: PT/FT, ProgNet, "
        "residual adapters and a jointly trained multi-corpus network",
        description="Multi-corpus transfer: each corpus of --corpora in turn is "
        "the target. A source network trained on the other corpora pooled is "
        "transferred to it (PT/FT, ProgNet, residual adapters on the frozen "
        "source); a multi-corpus network (shared trunk, adapters and an output "
        "layer per corpus) is trained on the other corpora and the target's "
        "training folds; a DNN on the target alone. With 8, 4, 2 and 1 target "
        "training folds (as Figure 4). Reports UAR, trainable parameters, "
        "corrected t-tests and McNemar's tests.",
        options=(
            Option(
                "corpora",
                None,
                flag={
                    "required": True,
                    "type": _corpus_list,
                    "metavar": "A,B,C",
                    "help": "comma-separated corpora, at least 2 (e.g. "
                    "emodb,urdu:/data/urdu,nemo_egemaps.csv.gz)",
                },
            ),
            _transfer.TRAIN_FOLDS,
            Option(
                "joint_validation",
                "pooled",
                flag={
                    "choices": JOINT_VALIDATIONS,
                    "help": "what the multi-corpus network's early stopping "
                    "scores. pooled: 10%% of its training rows, held out "
                    "stratified by corpus and emotion (the larger corpora decide "
                    "its best epoch). target: the target's validation fold, as "
                    "for the other methods (default: %(default)s)",
                },
            ),
        ),
        function="run_multi_corpus",
        default_out=_default_out,
    ),
)
