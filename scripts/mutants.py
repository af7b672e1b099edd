"""Mutation spot-check: break each central mechanism on purpose, expect a test to fail.

A mutant is the behaviour it breaks, one exact snippet of the package with its
replacement, and the tests meant to catch it. Each runs on a copy of the package
and tests in a temporary folder: a failing test kills it; if the tests pass, it
survived. The tests first run once unmutated, where they must pass. See
docs/contributing.rst.

    python scripts/mutants.py              # all mutants (make mutants)
    python scripts/mutants.py --list       # what each mutant breaks
    python scripts/mutants.py NAME [NAME]  # some of them

POSIX only: each run is a process forked from this one (see PRELOADED).

Exit status 1 if a mutant survived, or if a run could not be judged (a snippet
that no longer matches exactly once, a collection error, a timeout).
"""

# The table of mutants is data: its lines are as long as its snippets need.
# ruff: noqa: E501

import argparse
import importlib
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import namedtuple
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("sklearn_prognet", "tests", "pyproject.toml", "setup.cfg")
TIMEOUT_S = 600


# breaks: the behaviour, in words; original: a snippet found exactly once in file
Mutant = namedtuple("Mutant", "name breaks file original replacement tests")


# fmt: off
NET, SCI = "tests/test_science_networks.py::", "tests/test_science_evaluation.py::"
EST, MOD = "tests/test_estimators.py::", "tests/test_modules.py::"
SEL, STA = "tests/test_model_selection.py::", "tests/test_stats.py::"
FEA = "tests/test_features.py::"
M, T, E = "sklearn_prognet/networks/_modules.py", "sklearn_prognet/networks/_training.py", "sklearn_prognet/networks/_estimators.py"
C = "sklearn_prognet/networks/_columns.py"
S, F = "sklearn_prognet/model_selection.py", "sklearn_prognet/stats.py"
FE, AU = "sklearn_prognet/features/_features.py", "sklearn_prognet/features/_audio.py"
XPS = "tests/test_science_experiments.py::"
XEN = "tests/test_experiments_engine.py::"
XF, XFO = "sklearn_prognet/experiments/_fits.py", "sklearn_prognet/experiments/_folds.py"
XE, XST = "sklearn_prognet/experiments/_execution.py", "sklearn_prognet/experiments/_stats.py"
XSK, XPA = "sklearn_prognet/experiments/_skeleton.py", "sklearn_prognet/experiments/_paralinguistic.py"
XCC, XTR = "sklearn_prognet/experiments/_cross_corpus.py", "sklearn_prognet/experiments/_transfer.py"
XMT, XMTS = "sklearn_prognet/experiments/_multitask.py", "tests/test_experiment_multitask.py::"
BAT, BR = "sklearn_prognet/networks/_batched.py", "tests/test_batched_recipe.py::"
BATE, BAD = "tests/test_batched.py::", "tests/test_batched_adapters.py::"
BF, ONE = "sklearn_prognet/networks/_batched_fit.py", "tests/test_one_loop.py::"
INC = "tests/test_input_columns.py::"
XMC, MCS = "sklearn_prognet/experiments/_multi_corpus.py", "tests/test_multi_corpus_speaker.py::"
G2, SPK = "sklearn_prognet/features/_ge2e.py", "tests/test_speaker.py::"
FROZEN = '__import__("sklearn.frozen").frozen.FrozenEstimator'
ACCURACY = '__import__("sklearn.metrics").metrics.accuracy_score'

MUTANTS = [
    # -- networks
    Mutant("laterals_ignored", "lateral connections feed the new column", M,
           "z = z + lateral(source)", "z = z + 0 * lateral(source)",
           (NET + "test_a_task_solvable_only_through_the_source_is_solved_by_its_laterals",
            EST + "test_lateral_connections_feed_every_layer_including_output")),
    Mutant("last_weights_kept", "early stopping restores the best epoch's weights", BAT,
           "restore = stack.snapshots and", "restore = False and",
           (NET + "test_restored_weights_reproduce_the_best_epochs_validation_score",
            EST + "test_early_stopping_stops_and_restores_the_best_epoch")),
    Mutant("best_epoch_first_improvement", "best_epoch_ is the last epoch that improved (whose weights were kept)", T,
           "return improved[-1]", "return improved[0]",
           (NET + "test_restored_weights_reproduce_the_best_epochs_validation_score",
            EST + "test_early_stopping_stops_and_restores_the_best_epoch")),
    Mutant("x_val_ignored", "early stopping scores X_val, y_val when given", E,
           "if X_val is not None:", "if X_val is not None and not self.early_stopping:",
           (NET + "test_explicit_validation_data_is_what_early_stopping_scores", EST + "test_explicit_validation_data_is_used")),
    Mutant("inner_split_ignores_groups", "the inner validation split holds out whole groups", E,
           "inner_validation_split(y, groups,", "inner_validation_split(y, None,",
           (NET + "test_inner_validation_split_holds_out_whole_groups",)),
    Mutant("no_dropout_in_trained_column", "training drops hidden units of the trained column", BAT,
           "if job[\"dropout\"]:\n            masks = _dropout_masks(", "if False:\n            masks = _dropout_masks(",
           (NET + "test_training_drops_a_share_p_of_hidden_units_and_validation_none",)),
    Mutant("dropout_p_swapped", "FastDropout drops a share p of the units", M,
           "x * keep_mask(x, self.p)", "x * keep_mask(x, 1 - self.p)",
           (NET + "test_dropout_drops_a_share_p_of_units_and_rescales_the_rest", MOD + "test_fast_dropout_modes_and_gradient")),
    Mutant("no_batch_shuffle", "every epoch draws a new batch order", BAT,
           "torch.randperm(n, generator=gen, device=gen.device)", "torch.arange(n, device=gen.device)",
           (NET + "test_every_epoch_sees_the_rows_in_a_new_random_order",)),
    Mutant("frozen_columns_trainable", "frozen weights are buffers no optimizer sees", M,
           "_parameters_to_buffers(column)\n", "pass\n",
           (NET + "test_no_optimizer_can_change_a_frozen_column",
            EST + "test_frozen_columns_stay_bit_identical_and_out_of_the_optimizer")),
    Mutant("frozen_columns_train_mode", "frozen columns always run in eval mode", M,
           "column.eval()", "column.train(mode)",
           (MOD + "test_frozen_columns_are_in_eval_mode_from_construction", MOD + "test_trainer_switches_the_whole_tree")),
    Mutant("source_weights_not_loaded", "sources' weights are copied into the new net", C,
           "own[key].copy_(tensor)", "pass",
           (EST + "test_frozen_columns_stay_bit_identical_and_out_of_the_optimizer",
            EST + "test_fine_tuning_copies_hidden_layers_and_leaves_the_source")),
    Mutant("source_y_first_column", "unfitted source j trains on source_y[:, j]", E,
           "labels[:, column]", "labels[:, 0]",
           (EST + "test_unfitted_sources_are_trained_on_source_y",)),
    Mutant("source_seed_differs_in_fit", "fit seeds an unfitted source as the batched fits do (source_seed)", E,
           "random_state=source_seed(self, i)", "random_state=source_seed(self, i + 1)",
           (ONE + "test_alone_equals_stacked[finetuned]", ONE + "test_alone_equals_stacked[prognet]")),
    Mutant("torch_unseeded", "same random_state, same model, whatever torch's state", T,
           "torch.manual_seed(seed)", "pass",
           (NET + "test_same_random_state_same_model_whatever_torchs_global_state",)),
    Mutant("random_state_ignored", "another random_state gives another model", E,
           "rng = check_random_state(self.random_state)", "rng = check_random_state(0)",
           (EST + "test_same_random_state_same_result_and_global_rng_untouched",)),
    # -- evaluation protocol
    Mutant("uar_is_accuracy", "uar_score is the mean of per-class recalls", "sklearn_prognet/metrics.py",
           "float(balanced_accuracy_score(", f"float({ACCURACY}(",
           (SCI + "test_uar_on_imbalanced_labels_is_the_mean_recall_not_accuracy",
            STA + "test_uar_is_balanced_accuracy_and_macro_recall")),
    Mutant("uar_over_predicted_labels", "UAR averages over the classes of y_true only", "sklearn_prognet/metrics.py",
           "float(balanced_accuracy_score(y_true, y_pred, sample_weight=sample_weight))",
           'float(__import__("sklearn.metrics").metrics.recall_score(y_true, y_pred, average="macro", zero_division=0.0, sample_weight=sample_weight))',
           (SCI + "test_uar_ignores_a_predicted_label_that_no_row_has",)),
    Mutant("speakers_split_across_folds", "no speaker in both training and test folds", S,
           "yield fold_of_group[group_ids]", "yield rng.permutation(fold_of_group[group_ids])",
           (SCI + "test_speaker_independent_folds_keep_every_speaker_whole", SEL + "test_speaker_independent_properties")),
    Mutant("repeats_identical", "the repeats are different partitions", S,
           "_assign_groups(y_counts_per_group, self.n_splits, rng)",
           "_assign_groups(y_counts_per_group, self.n_splits, check_random_state(0))",
           (SEL + "test_repeats_are_different_partitions",)),
    Mutant("duplicate_partitions_kept", "a repeat that duplicates another is redrawn", S,
           "if key not in seen:", "if True:",
           (SEL + "test_repeats_differ_with_few_groups",)),
    Mutant("validation_fold_trains", "the validation fold is never a training fold", S,
           "np.array([k for k in others if k != val_fold])", "np.array(others)",
           (SCI + "test_fold_roles_by_hand", SEL + "test_fold_roles_properties")),
    Mutant("validation_not_next_fold", "validation='next' validates on fold k + 1", S,
           "val_fold = (fold + 1) % n_splits", "val_fold = (fold + 2) % n_splits",
           (SCI + "test_fold_roles_by_hand", SEL + "test_fold_roles_properties")),
    Mutant("train_folds_first_candidates", "n_train_folds keeps a random choice of the eligible folds", S,
           "kept = candidates[rng.permutation(len(candidates))][:n_keep]",
           "kept = candidates[:n_keep] if rng.permutation(len(candidates)) is not None else None",
           (SCI + "test_kept_training_folds_are_drawn_evenly_among_the_eligible_folds",)),
    Mutant("split_trains_on_validation", "FoldRoles.split leaves the validation fold out", S,
           "yield fold.train, fold.test", "yield np.union1d(fold.train, fold.validation), fold.test",
           (SCI + "test_fold_roles_by_hand", SCI + "test_cv_fold_sizes_by_hand")),
    Mutant("fold_sizes_swapped", "cv_fold_sizes returns (n_train, n_test)", S,
           "(len(train), len(test)) for", "(len(test), len(train)) for",
           (SCI + "test_cv_fold_sizes_by_hand", SEL + "test_cv_fold_sizes")),
    Mutant("ttest_uncorrected_variance", "the t-test's variance factor is 1/J + n_test/n_train", F,
           "return 1.0 / n_differences + float(test_train_ratio)", "return 1.0 / n_differences",
           (SCI + "test_corrected_ttest_equals_the_nadeau_bengio_formula_by_hand", STA + "test_worked_example")),
    Mutant("ttest_ratio_inverted", "the correction uses n_test / n_train, not its inverse", F,
           "n_test.sum() / n_train.sum()", "n_train.sum() / n_test.sum()",
           (SCI + "test_corrected_ttest_equals_the_nadeau_bengio_formula_by_hand", STA + "test_worked_example")),
    Mutant("ttest_df_is_j", "the t-test has J - 1 degrees of freedom", F,
           "float(n - 1 if df is None else df)", "float(n if df is None else df)",
           (SCI + "test_corrected_ttest_equals_the_nadeau_bengio_formula_by_hand", STA + "test_worked_example")),
    Mutant("compare_sizes_swapped", "compare_cv_results reads n_train from the train indices", F,
           'n_train=[len(train) for train in ind_a["train"]]', 'n_train=[len(test) for test in ind_a["test"]]',
           (STA + "test_compare_cv_results",)),
    # -- feature cache
    Mutant("cache_keyed_on_size", "the feature cache follows the file's content", AU,
           'return "file:" + digest.hexdigest()', 'return "file:" + str(os.path.getsize(path))',
           ("tests/test_science_features.py::"
            "test_files_of_equal_size_and_other_content_get_their_own_features",)),
    Mutant("cache_ignores_sampling_rate", "sampling_rate is part of the cache key", FE,
           "self.sampling_rate,\n            self.resample,", "self.resample,",
           (FEA + "test_cache_follows_content_and_config",)),
    # -- corpus loaders
    Mutant("layout_error_without_layout", "a loader that finds nothing names the folder and the layout it expected", "sklearn_prognet/datasets/_base.py",
           'return ValueError(f"No {name} {missing} in {str(folder)!r}: expected {expected}.")',
           'return ValueError(f"No {name} {missing} in {str(folder)!r}.")',
           ("tests/test_datasets.py::test_nothing_found_is_worded_alike", "tests/test_datasets.py::test_missing_and_empty_folder")),
    # -- experiments: the runner's fits
    Mutant("runner_scaler_sees_test_fold", "each fit's scaler is fitted on its training folds only", XF,
           '[("scale", make_scaler(data.normalization)), ("net", net)]',
           f'[("scale", {FROZEN}(make_scaler(data.normalization).fit(data.X))), ("net", net)]',
           (XPS + "test_the_scaler_is_fitted_on_the_training_folds_only",)),
    Mutant("runner_trains_on_test_fold", "the network trains on the training folds only", XF,
           '{"X": data.rows(task.train), "y": data.y[task.train],',
           '{"X": data.rows(np.union1d(task.train, task.test)), "y": data.y[np.union1d(task.train, task.test)],',
           (XPS + "test_each_fold_reaches_the_network_in_its_own_role",
            XEN + "test_batched_fits_get_each_fold_in_its_own_role")),
    Mutant("runner_validates_on_test_fold", "early stopping scores the validation fold", XF,
           "X_val=data.rows(task.validation),\n                         y_val=data.y[task.validation])",
           "X_val=data.rows(task.test),\n                         y_val=data.y[task.test])",
           (XPS + "test_each_fold_reaches_the_network_in_its_own_role",
            XEN + "test_batched_fits_get_each_fold_in_its_own_role")),
    Mutant("runner_scores_validation_fold", "a fit's UAR is scored on its test fold", XF,
           "X_test = pipe[:-1].transform(data.rows(task.test))",
           "X_test = pipe[:-1].transform(data.rows(task.validation))",
           (XPS + "test_the_record_scores_the_test_fold",)),
    Mutant("source_task_sees_all_rows", "a source network trains on the step's training rows only", XF,
           "source = DNNClassifier(**params, random_state=task.source_random_state)",
           "source = DNNClassifier(**params, random_state=task.source_random_state).fit(data.X, data.source_task_labels[task.source_task])",
           (XPS + "test_the_source_trains_on_the_training_rows_only",)),
    # -- experiments: the plan's folds
    Mutant("plan_test_is_validation", "a task's test and validation folds are the step's", XSK,
           "validation=fold.validation,\n        test=fold.test,",
           "validation=fold.test,\n        test=fold.validation,",
           (XPS + "test_paralinguistic_tasks_use_the_papers_fold_roles",)),
    Mutant("speaker_independent_ignored", "speaker_independent folds hold whole speakers", XFO,
           "protocol=protocol,\n        random_state=seed,",
           "protocol=SPEAKER_STRATIFIED,\n        random_state=seed,",
           (XPS + "test_paralinguistic_tasks_use_the_papers_fold_roles",)),
    Mutant("folds_ignore_speakers", "the folds are grouped by speaker", XFO,
           "roles.split_roles(corpus.X, corpus.emotion, corpus.speaker)",
           "roles.split_roles(corpus.X, corpus.emotion, np.arange(corpus.n_samples))",
           (XPS + "test_paralinguistic_tasks_use_the_papers_fold_roles",)),
    Mutant("train_folds_not_nested", "cross-corpus training folds are nested (1 in 2 in 4 in 8)", XFO,
           "n_train_folds=n_train_folds, random_state=seed",
           "n_train_folds=n_train_folds, random_state=seed + (n_train_folds or 0)",
           (XPS + "test_cross_corpus_training_folds_are_nested",)),
    Mutant("train_folds_all_kept", "cross-corpus arms train on n of the training folds", XCC,
           "make_folds(target, **options.fold_options(), n_train_folds=n)",
           "make_folds(target, **options.fold_options())",
           (XPS + "test_cross_corpus_training_folds_are_nested",)),
    # -- experiments: cross-corpus source and target are disjoint
    Mutant("corpora_overlap_unchecked", "a source holding target utterances is refused", XCC,
           "    check_disjoint(source_corpus, target_corpus)\n", "    pass\n",
           (XPS + "test_cross_corpus_refuses_a_source_that_holds_target_rows",
            XPS + "test_cross_corpus_refuses_same_corpus_shared_speakers")),
    Mutant("shared_rows_unchecked", "a source holding target feature rows is refused", XTR,
           "if row.tobytes() in rows", "if row.tobytes() in rows and False",
           (XPS + "test_cross_corpus_refuses_a_source_that_holds_target_rows",)),
    Mutant("shared_speakers_unchecked", "one corpus as source and target needs disjoint speakers", XTR,
           "if source.name == target.name:", "if False:",
           (XPS + "test_cross_corpus_refuses_same_corpus_shared_speakers",)),
    # -- experiments: multi-corpus
    Mutant("joint_net_sees_target_rows", "a multi-corpus network gets the target's training rows only", XMC,
           "others = self.corpus_of_row != task.target", "others = np.ones(len(self.y), dtype=bool)",
           (MCS + "test_joint_fit_never_sees_a_test_speakers_statistics",)),
    Mutant("speakers_collide_across_corpora", "speaker ids are prefixed with their corpus", XMC,
           '[np.asarray([f"{c.name}:{s}" for s in c.speaker], dtype=object)',
           "[np.asarray([str(s) for s in c.speaker], dtype=object)",
           (MCS + "test_speaker_ids_are_prefixed_with_their_corpus",)),
    Mutant("other_corpora_not_per_speaker", "the other corpora are standardised per speaker", XMC,
           'out[rows] = make_scaler("speaker").fit_transform(frame)',
           'out[rows] = make_scaler("global").fit_transform(X[rows])',
           (MCS + "test_pooled_source_standardises_each_corpus_speaker",
            MCS + "test_joint_fit_never_sees_a_test_speakers_statistics")),
    Mutant("params_mean_not_median", "a report's parameter count is the median over the fits", XST,
           "float(values.median())", "float(values.mean())",
           ("tests/test_report_params.py::test_paralinguistic_report_shows_the_median_parameters",)),
    # -- experiments: resume
    Mutant("resume_recomputes_saved_fits", "a rerun skips the fits already saved", XE,
           "todo = [task for task in tasks if task.key not in done]", "todo = list(tasks)",
           (XPS + "test_execute_runs_only_unsaved_fits_and_saves_each_at_once",)),
    Mutant("records_saved_at_the_end", "each record is saved as its fit finishes", XE,
           'return_as="generator_unordered"', 'return_as="list"',
           (XPS + "test_execute_runs_only_unsaved_fits_and_saves_each_at_once",)),
    Mutant("batched_chunk_is_the_whole_run", "the batched engine saves each repeat's fits when it is trained", XE,
           "for tasks_of_chunk in _chunks(todo, chunk or _repeat):", "for tasks_of_chunk in [todo]:",
           (XEN + "test_each_repeat_is_saved_when_trained_and_a_rerun_resumes",)),
    Mutant("batched_groups_saved_at_the_end", "the batched engine saves each group of networks when it is trained", XE,
           "for record in records:", "for record in list(records):",
           (XEN + "test_each_group_is_saved_when_trained_and_a_rerun_trains_the_rest",)),
    Mutant("stack_interrupt_swallowed", "a user's interruption of skorch's fit loop stops the fit (no half-trained nets)", BAT,
           "    if len(stack):\n        # skorch's partial_fit", "    if False:\n        # skorch's partial_fit",
           (ONE + "test_an_interruption_is_not_taken_for_the_end_of_training",)),
    Mutant("batched_half_groups_handed_over", "the engine hands over whole groups of similar networks", BAT,
           "if len(done) == len(groups[group]):", "if True:",
           (BATE + "test_whole_groups_are_handed_over_so_a_resume_gets_the_same_stacks",)),
    Mutant("batched_fit_time_not_shared", "a batched fit's time is its share of its own stack", BAT,
           "share = seconds / len(nets)", "share = seconds",
           (XEN + "test_a_batched_fit_time_is_its_share_of_its_stack",)),
    Mutant("engine_flag_ignored", "engine='per-fit' trains every fit on its own", XE,
           "if engine == PER_FIT:", "if False:",
           (XEN + "test_per_fit_engine_never_batches",)),
    Mutant("source_model_refitted_on_resume", "a resumed cross-corpus run loads its source model", XCC,
           "if done and path.exists():", "if False:",
           (XPS + "test_a_resumed_cross_corpus_run_loads_its_source_model",)),
    Mutant("multitask_accepts_lateral", "the multitask command refuses a --lateral it would ignore", "sklearn_prognet/experiments/_multitask.py",
           'if options.lateral != "linear":', "if False:",
           ("tests/test_cli.py::test_bad_input_is_a_clear_message",)),
    # -- experiments: the report
    Mutant("report_ttest_sizes_swapped", "the report's t-test gets n_train and n_test in order", XST,
           '{"n_train": pairs["n_train_a"].to_numpy(),\n             "n_test": pairs["n_test_a"].to_numpy()}',
           '{"n_train": pairs["n_test_a"].to_numpy(),\n             "n_test": pairs["n_train_a"].to_numpy()}',
           (XPS + "test_report_numbers_and_marks_equal_a_computation_by_hand",)),
    Mutant("report_ttest_df_ignored", "the report's t-test uses the run's degrees of freedom", XST,
           "df = ttest_df\n", "df = None\n",
           (XPS + "test_report_numbers_and_marks_equal_a_computation_by_hand",)),
    Mutant("report_std_across_folds", "the report's std is the mean within-repeat std", XST,
           'pivot_table(index="repeat", columns="fold", values="uar")',
           'pivot_table(index="fold", columns="repeat", values="uar")',
           (XPS + "test_report_numbers_and_marks_equal_a_computation_by_hand",)),
    Mutant("marks_ignore_direction", "only a method better than the DNN is marked", XST,
           "and result.ttest.pvalue < alpha\n        and result.ttest.mean_difference > 0",
           "and result.ttest.pvalue < alpha",
           (XPS + "test_report_numbers_and_marks_equal_a_computation_by_hand",)),
    Mutant("dagger_without_other_transfer", "† needs both other methods beaten, * the DNN", XST,
           'mark = "†" if is_better(results[method, other], alpha) else "*"', 'mark = "†"',
           (XPS + "test_report_numbers_and_marks_equal_a_computation_by_hand",)),
    Mutant("report_keeps_unplanned_records", "records outside the plan are left out of the report", XSK,
           'return [r for r in records if r["key"] in planned]', "return records",
           (XPS + "test_report_leaves_out_records_outside_the_plan",)),
    # -- multi-task learning
    Mutant("dimensional_loss_dropped", "the dimensional loss enters the total loss", BAT,
           "weight * _dimensional_losses(", "0.0 * _dimensional_losses(",
           (BATE + "test_ratings_train_as_the_module_and_its_loss_compute_them", XMTS + "test_ratings_help_classification")),
    Mutant("ratings_loss_over_other_rows", "a model's ratings loss is over its own rows of the batch", BAT,
           "loss(predicted[m, :c], targets[m, :c])", "loss(predicted[m], targets[m])",
           (ONE + "test_alone_equals_stacked[multitask]",)),
    Mutant("multitask_seeds_unpaired", "all arms of a multitask step share one random state", XMT,
           "derive_seed(options.seed, fold.repeat, fold.fold, _SEED_LABEL)",
           "derive_seed(options.seed, fold.repeat, fold.fold, arm.name)",
           (XMTS + "test_iemocap_report_against_records",)),
    Mutant("multitask_ratings_file_unread", "the report reads the ratings saved beside config.json", XMT,
           'if "ratings" in saved or not path.is_file():', "if True:",
           (XMTS + "test_ratings_are_kept_beside_config_and_old_folders_still_report",)),
    Mutant("multitask_ratings_file_unchecked", "ratings that are not the run's are refused", XMT,
           "ratings_digest(values) != expected", "False",
           (XMTS + "test_ratings_are_kept_beside_config_and_old_folders_still_report",)),
    Mutant("multitask_ratings_rounded", "the saved ratings read back equal (all their digits)", XMT,
           '"" if math.isnan(v) else repr(v)', '"" if math.isnan(v) else f"{v:.3f}"',
           (XMTS + "test_ratings_are_kept_beside_config_and_old_folders_still_report",)),
    Mutant("multitask_ccc_keeps_unrated", "the report's CCC skips the test rows without a rating", XMT,
           "rated = ~np.isnan(y_true)", "rated = np.isfinite(y_pred)",
           (XMTS + "test_msp_improv_cli_missing_ratings_and_resume",)),
    Mutant("record_ratings_unscaled", "a network's record fields see the test fold after the pipeline's scaler", XF,
           "record.update(net.record_fields(X_test))", "record.update(net.record_fields(data.rows(task.test)))",
           (XMTS + "test_record_holds_the_ratings_predicted_for_the_scaled_test_fold",)),
    Mutant("record_fields_hook_skipped", "fit_record adds the fields of the network's record_fields hook", XF,
           'if hasattr(net, "record_fields"):', 'if hasattr(net, "record_fields_"):',
           (XMTS + "test_record_holds_the_ratings_predicted_for_the_scaled_test_fold",
            "tests/test_multi_corpus.py::test_multi_corpus_network_sees_target_training_folds_only")),
    # -- the training loop's options (the small-corpus recipe)
    Mutant("batched_no_weight_decay", "training applies weight_decay", BAT,
           "weight_decay=weight_decay,\n            **_ADAM_CONSTANTS,", "weight_decay=0.0,\n            **_ADAM_CONSTANTS,",
           (BR + "test_option_without_randomness_equals_the_reference_loop[dnn-weight_decay]", BR + "test_weight_decay_is_decoupled")),
    Mutant("batched_weight_decay_coupled", "weight decay is decoupled (AdamW)", BAT,
           "_fused_adamw_ if weight_decay else", "_fused_adam_ if weight_decay else",
           (BR + "test_option_without_randomness_equals_the_reference_loop[dnn-weight_decay]", BR + "test_weight_decay_is_decoupled")),
    Mutant("batched_idle_models_step", "a model without rows in a batch is neither stepped nor decayed", BAT,
           "if all(active) and stack.same_steps:", "if stack.same_steps:",
           (BATE + "test_a_model_does_not_depend_on_its_batch_mates", BR + "test_noisy_training_is_reproducible_and_independent_of_mates")),
    Mutant("batched_no_label_smoothing", "the training loss smooths the labels", BAT,
           "losses = _losses(logits, batch.y, self.label_smoothing)", "losses = _losses(logits, batch.y, 0.0)",
           (BR + "test_option_without_randomness_equals_the_reference_loop[dnn-label_smoothing]",)),
    Mutant("batched_valid_loss_unsmoothed", "the validation loss is smoothed as the training loss is", BAT,
           '_validate(stack, layout, self.job["label_smoothing"])', "_validate(stack, layout, 0.0)",
           (BR + "test_option_without_randomness_equals_the_reference_loop[dnn-label_smoothing]",)),
    Mutant("smoothing_over_all_classes", "label smoothing spreads over the row's own (finite-logit) classes only",
           "sklearn_prognet/networks/_modules.py",
           "spread = -log_p.masked_fill(~own, 0.0).sum(-1) / own.sum(-1)", "spread = -log_p.sum(-1) / own.shape[-1]",
           ("tests/test_modules.py::test_smoothed_cross_entropy_spreads_over_each_rows_own_classes",
            BAD + "test_label_smoothing_over_each_corpus_own_classes")),
    Mutant("smoothing_divides_by_all_classes", "label smoothing gives eps / K_row to each of a row's K_row classes",
           "sklearn_prognet/networks/_modules.py", "/ own.sum(-1)", "/ own.shape[-1]",
           ("tests/test_modules.py::test_smoothed_cross_entropy_spreads_over_each_rows_own_classes",)),
    Mutant("loss_is_torch_cross_entropy", "the training loss smooths over each row's own classes", BAT,
           "return smoothed_cross_entropy(", "return (lambda z, y, s, reduction: F.cross_entropy(z, y, label_smoothing=s, reduction=reduction))(",
           (BAD + "test_label_smoothing_over_each_corpus_own_classes",)),
    Mutant("batched_no_input_noise", "training adds input_noise to the batches", BAT,
           "features.add_(draws[:, :n_rows].mul_(noise))", "features.add_(draws[:, :n_rows].mul_(0.0))",
           (BR + "test_input_noise_and_dropout_statistics_per_model", BR + "test_noisy_training_is_reproducible_and_independent_of_mates")),
    Mutant("batched_noise_shared_stream", "each model draws its input noise from its own stream", BAT,
           "draws[i].normal_(generator=gen)", "draws[i].normal_(generator=gens[0])",
           (BR + "test_input_noise_and_dropout_statistics_per_model", BR + "test_corruption_streams_are_per_model_and_reproducible")),
    Mutant("batched_input_dropout_not_inverted", "input dropout rescales the kept features by 1 / (1 - p)", BAT,
           "flat[:, :n_rows].ge_(p).float().mul_(1.0 / (1.0 - p))", "flat[:, :n_rows].ge_(p).float()",
           (BR + "test_input_noise_and_dropout_statistics_per_model",)),
    # -- how the training loop cuts its jobs into stacks
    Mutant("stacks_mix_epoch_lengths", "models of very different epoch lengths are stacked apart (no padded work)", BAT,
           "if similar[-1] and batches[i] < _SIMILAR_EPOCHS * batches[similar[-1][0]]:", "if False:",
           (BATE + "test_stacks_keep_models_of_similar_epochs_together",)),
    Mutant("stacks_unordered", "the largest stacks are trained first (the workers finish together)", BAT,
           "return sorted(cut, key=lambda chunk: -len(chunk) * batches[chunk[0]])", "return cut",
           (BATE + "test_stacks_keep_models_of_similar_epochs_together",)),
    # -- the training loop's residual adapters and multi-corpus networks
    Mutant("batched_domain_mask_dropped", "a row's adapters are its corpus's block of inner units only", BAT,
           "blocks = a.view(n_models, n, self.n_domains, self.rank) * own.unsqueeze(-1)",
           "blocks = a.view(n_models, n, self.n_domains, self.rank)",
           (BAD + "test_a_corpus_rows_never_move_another_corpus_parameters",
            BAD + "test_one_model_without_randomness_equals_the_reference_loop[multicorpus]")),
    Mutant("batched_domain_bias_shared", "each row gets its own corpus's hidden biases", BAT,
           'z = z + torch.bmm(own, params[f"b{k}"])', 'z = z + params[f"b{k}"][:, :1]',
           (BAD + "test_one_model_without_randomness_equals_the_reference_loop[multicorpus]",)),
    Mutant("batched_heads_overlap", "each row is scored by its corpus's output layer only", BAT,
           "logits = torch.where(own[..., d : d + 1].bool(), full, logits)",
           "logits = torch.where(full.isfinite(), full, logits)",
           (BAD + "test_a_corpus_rows_never_move_another_corpus_parameters",
            BAD + "test_one_model_without_randomness_equals_the_reference_loop[multicorpus]")),
    Mutant("batched_adapter_trunk_trained", "the loop trains only the module's parameters: a residual adapter's source trunk stays frozen", BAT,
           "learnable = {", "learnable = set(nets[0].module_.state_dict()) or {",
           (BAD + "test_the_frozen_trunk_stays_bit_identical", BATE + "test_frozen_columns_and_layers_are_untouched")),
    Mutant("frozen_layers_trained", "a fine-tuned network's frozen layers (freeze_patterns) are not trained", BAT,
           "param.requires_grad_(False)", "pass",
           (BATE + "test_frozen_columns_and_layers_are_untouched",
            EST + "test_fine_tuning_copies_hidden_layers_and_leaves_the_source")),
    Mutant("batched_trained_trunk_no_dropout", "a multi-corpus network drops units after every hidden layer", BAT,
           "if masks is not None and not self.frozen_trunk:", "if False:",
           (BAD + "test_dropout_is_where_the_module_puts_it[multicorpus]",)),
    Mutant("batched_frozen_trunk_no_dropout", "residual adapters drop units before the output layer", BAT,
           "if masks is not None and self.frozen_trunk:", "if False:",
           (BAD + "test_dropout_is_where_the_module_puts_it[adapter]",)),
    # -- laterals in training; stacks (a model in a stack is the model alone); the batched fits' sources
    Mutant("linear_laterals_untrained", "training feeds the new column the linear laterals from the sources", BAT,
           'return torch.baddbmm(z, rows[..., lateral], params[f"L{k}"])', 'return z + 0 * params[f"L{k}"].sum()',
           (NET + "test_a_task_solvable_only_through_the_source_is_solved_by_its_laterals",
            BATE + "test_one_model_without_randomness_equals_the_reference_loop[prognet]")),
    Mutant("adapter_lateral_linear", "an adapter lateral applies its non-linearity", BAT,
           "inner = act(", "inner = (",
           (BATE + "test_adapter_laterals_train_as_the_module_computes_them",)),
    Mutant("adapter_lateral_unscaled", "an adapter lateral scales its input by its learned alpha", BAT,
           'scaled = rows[..., piece] * params[f"La{k}_{i}"]', 'scaled = rows[..., piece] + 0 * params[f"La{k}_{i}"]',
           (BATE + "test_adapter_laterals_train_as_the_module_computes_them",)),
    Mutant("stack_streams_by_position", "each model's random stream is seeded from its job's seed, not its place in the stack", BAT,
           '_stream_seed(job["seed"]))\n            for job in jobs', "_stream_seed(i))\n            for i, job in enumerate(jobs)",
           (ONE + "test_alone_equals_stacked[dnn]",)),
    Mutant("stack_validation_counts_padding", "a model's validation score is over its own validation rows only", BAT,
           "device=rows.device).unsqueeze(0) < n.unsqueeze(1)", "device=rows.device).unsqueeze(0) < n.max()",
           (BATE + "test_each_model_of_a_stack_scores_its_own_validation_rows",)),
    Mutant("shared_source_key_without_data", "fits share a source only if its rows and labels are the same", BF,
           '_digest(fit["X"]),\n                    _digest(labels[:, column]),', "",
           (BATE + "test_each_fold_trains_its_own_source_on_its_own_training_rows",
            ONE + "test_each_fold_trains_its_own_source_on_its_own_rows[prognet]")),
    Mutant("pipeline_steps_fitted_on_x_val", "a Pipeline's first steps are fitted on X, never on X_val", BF,
           'fit["X"] = steps.fit_transform(fit["X"], fit["y"])',
           'fit["X"] = steps.fit(__import__("numpy").vstack([fit["X"], fit["X_val"]]) if fit.get("X_val") is not None else fit["X"]).transform(fit["X"])',
           (BATE + "test_pipeline_steps_are_fitted_on_the_training_rows_never_on_x_val",)),
    Mutant("wrapper_not_delegated", "the engine trains the network a wrapper declares (the joint network)", BF,
           "return all(hasattr(network, name) for name in _WRAPPER_METHODS)", "return False",
           (XEN + "test_batch_refusal_names_only_what_is_not_a_network",
            XEN + "test_multi_corpus_batches_every_method_one_target_at_a_time")),
    Mutant("multi_corpus_chunk_is_a_repeat", "the multi-corpus runner saves each (repeat, target) when trained", XMC,
           "return (task.repeat, task.target)", "return task.repeat",
           (XEN + "test_multi_corpus_batches_every_method_one_target_at_a_time",)),
    # -- the multi-corpus network's explicit validation data
    Mutant("multi_corpus_x_val_ignored", "MultiCorpusClassifier stops on X_val and trains on all of X", "sklearn_prognet/networks/_adapters.py",
           "        if X_val is not None:\n", "        if False:\n",
           ("tests/test_adapters.py::test_multi_corpus_stops_on_x_val_and_trains_on_all_of_x",)),
    Mutant("batched_multi_corpus_x_val_dropped", "fit_batched gives a multi-corpus network its X_val", BF,
           'fit["X"], fit["y"], fit.get("groups"), fit.get("X_val"), fit.get("y_val")', 'fit["X"], fit["y"], fit.get("groups")',
           (BAD + "test_multi_corpus_x_val_is_batched_as_per_fit",)),
    Mutant("joint_validation_ignored", "joint_validation='target' stops the joint network on the target's validation fold", XMC,
           'if self.validation == "pooled":', "if True:",
           ("tests/test_multi_corpus.py::test_joint_fit_gets_exactly_the_target_rows",)),
    # -- the speaker encoder (resemblyzer's preprocessing, reimplemented)
    Mutant("speaker_volume_lowered", "the volume normalization never lowers a loud input", G2,
           "    if change < 0:\n        return wav\n", "",
           (SPK + "test_volume_normalization_only_increases", SPK + "test_steps_equal_resemblyzer_steps")),
    Mutant("speaker_dilation_narrowed", "the VAD keeps 3 windows of silence on each side of the voice", G2,
           "mask = _dilate(mask, (VAD_MAX_SILENCE + 1) // 2)", "mask = _dilate(mask, 1)",
           (SPK + "test_steps_equal_resemblyzer_steps", SPK + "test_shipped_dvectors_equal_extraction_of_test_files")),
    Mutant("speaker_symmetric_window", "the mel spectrogram uses librosa's periodic Hann window", G2,
           "np.linspace(-np.pi, np.pi, N_FFT + 1)[:-1]", "np.linspace(-np.pi, np.pi, N_FFT)",
           (SPK + "test_steps_equal_resemblyzer_steps",)),
    Mutant("speaker_silence_embedded", "a silent input is an error, not a row of NaN", "sklearn_prognet/features/_speaker.py",
           "        if silent:\n", "        if False:\n",
           (SPK + "test_errors_name_the_file",)),
    Mutant("column_reads_leading_features", "a column with input_columns reads those features, not the first ones", M,
           "h = select_inputs(x, self.input_index)", "h = x[:, : self.hidden[0].in_features]",
           (INC + "test_dnn_equals_a_dnn_fitted_on_the_sliced_x", INC + "test_progressive_columns_read_their_own_features")),
    Mutant("batched_input_selection_ignored", "the trained column reads its input_columns in training", BAT,
           "return x if index is None else select_inputs(x, index.to(x.device))", "return x if index is None else x[..., : len(index)]",
           (INC + "test_the_loop_equals_the_reference_with_an_embedding_source", INC + "test_the_loop_equals_the_reference_dnn_with_a_selection")),
    Mutant("new_column_reads_everything", "the new column of a progressive network reads its own input_columns", E,
           "            self.lateral,\n            self._inputs,\n", "            self.lateral,\n            None,\n",
           (INC + "test_progressive_columns_read_their_own_features",)),
]
# fmt: on


def copy_repo(dest):
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", ".pytest_cache")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore)
        else:
            shutil.copy2(source, dest / name)


def mutated(mutant, root):
    """The text of the mutant's file under ``root``, with the snippet replaced."""
    text = (root / mutant.file).read_text()
    if text.count(mutant.original) != 1:
        raise ValueError(
            f"mutant {mutant.name} no longer applies: snippet not found exactly "
            f"once in {mutant.file}: {mutant.original!r}"
        )
    return text.replace(mutant.original, mutant.replacement)


# Imported once, in this process, before each run forks from it: a run then
# starts its pytest in a fraction of a second instead of re-importing these
# (about half of a mutant's time). The package itself is never imported
# here: each run imports it from its own (mutated) copy.
PRELOADED = ("numpy", "scipy.stats", "pandas", "sklearn.base", "sklearn.metrics",
             "torch", "skorch", "pytest", "hypothesis")  # fmt: skip


def start_run(tests, dest, log):
    """Fork a process that runs pytest on ``tests`` in ``dest``; return its pid."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 3
    try:  # the child: never returns to the caller
        os.setpgrp()  # its own process group, killed whole on a timeout
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.chdir(dest)
        # the copy, not this checkout, for the run and any process it starts
        os.environ["PYTHONPATH"] = str(dest)
        os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
        sys.dont_write_bytecode = True
        sys.path.insert(0, str(dest))
        import pytest

        code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                            *tests])  # fmt: skip
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(code))


class Run:
    """One pytest run on a (mutated) copy of the package and tests."""

    def __init__(self, tests, mutant=None):
        self.mutant = mutant
        self.start = time.monotonic()
        self.tmp = tempfile.TemporaryDirectory(prefix="mutant-")
        dest = Path(self.tmp.name)
        copy_repo(dest)
        if mutant is not None:
            (dest / mutant.file).write_text(mutated(mutant, dest))
        self.log = dest / "pytest.log"
        self.pid = start_run(tests, dest, self.log)

    def timed_out(self):
        return time.monotonic() - self.start > TIMEOUT_S

    def finish(self, status):
        """(pytest exit code, output, s) from the status that os.waitpid gave."""
        if status is None:
            code, output = -1, f"timed out after {TIMEOUT_S} s"
        else:
            code = os.waitstatus_to_exitcode(status)
            output = self.log.read_text(errors="replace")
        self.tmp.cleanup()
        return code, output, time.monotonic() - self.start


def run_all(runs, jobs):
    """Start each ``Run(tests, mutant)`` of ``runs``, ``jobs`` at a time.

    Returns their (pytest exit code, output, s), in the order of ``runs``.
    No threads: forking a process that runs threads can deadlock the child.
    """
    waiting, running, results = list(enumerate(runs)), {}, {}

    def kill(pid):
        os.killpg(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        index, run = running.pop(pid)
        results[index] = run.finish(None)

    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                index, arguments = waiting.pop(0)
                run = Run(*arguments)
                running[run.pid] = index, run
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid:
                index, run = running.pop(pid)
                results[index] = run.finish(status)
                continue
            for pid in [p for p, (_, run) in running.items() if run.timed_out()]:
                kill(pid)
            time.sleep(0.05)
    finally:  # Ctrl-C: the runs, in their own process groups, stop too
        for pid in list(running):
            kill(pid)
    return [results[i] for i in range(len(runs))]


def judge(result):
    code, output, seconds = result
    if code == 1:
        failed = re.findall(r"^FAILED (\S+)", output, flags=re.MULTILINE)
        return "killed", failed[0] if failed else "", seconds
    if code == 0:
        return "SURVIVED", "", seconds
    return "ERROR", f"pytest exit code {code}\n{output[-3000:]}", seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants")
    parser.add_argument("--jobs", type=int, default=2, help="parallel runs")
    args = parser.parse_args(argv)
    by_name = {m.name: m for m in MUTANTS}
    unknown = sorted(set(args.names) - set(by_name))
    if unknown:
        parser.error(f"unknown mutants {unknown}; see --list")
    selected = [by_name[n] for n in args.names] or MUTANTS
    if args.list:
        for m in selected:
            print(f"{m.name:30} {m.breaks}\n{'':30} {m.file}: {m.original!r}")
        return 0
    try:  # a refactor must not disable a mutant silently
        for m in selected:
            mutated(m, ROOT)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    start = time.monotonic()
    tests = list(dict.fromkeys(t for m in selected for t in m.tests))
    # two runs share the CPUs: one torch thread each (read when torch loads)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    for name in PRELOADED:
        importlib.import_module(name)
    ((code, output, seconds),) = run_all([(tests,)], jobs=1)
    if code != 0:
        print(output[-5000:])
        print(f"the unmutated tests do not pass (pytest exit code {code})")
        return 1
    print(f"unmutated: {len(tests)} tests pass ({seconds:.0f} s)", flush=True)
    runs = [(m.tests, m) for m in selected]
    results = [judge(result) for result in run_all(runs, args.jobs)]

    width = max(len(m.name) for m in selected)
    problems = []
    for m, (result, detail, seconds) in zip(selected, results, strict=True):
        caught = detail.split("::")[-1] if result == "killed" else ""
        print(f"{m.name:{width}}  {result:8}  {seconds:5.1f} s  {m.breaks}  {caught}")
        if result != "killed":
            problems.append(f"\n{m.name}: {result}\n{detail or m.tests}")
    print(*problems, sep="\n")
    n_killed = len(selected) - len(problems)
    total = time.monotonic() - start
    print(f"\n{n_killed}/{len(selected)} mutants killed in {total:.0f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
