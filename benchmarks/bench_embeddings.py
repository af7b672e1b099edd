# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Throughput of SpeechEmbeddingTransformer on CPU, with and without n_jobs.

Embeds EmoDB recordings with a tiny randomly initialised wav2vec 2.0 model (2
transformer layers of 32 units, the same as the gallery example's), saved to a
temporary folder, so that the benchmark runs offline and measures the
package's own overhead (reading, checks, resampling, normalisation, chunking,
pooling, worker processes) more than the model. Configurations:

- ``n_jobs=1`` with one torch thread, and with torch's default thread count;
- ``n_jobs=2``: two worker processes, one torch thread each.

It reports files per second and the real-time factor (seconds of wall time
per second of audio; below 1 is faster than real time). Each configuration
runs ``--repeats`` times, interleaved, and the best run counts. A real model
(wav2vec2-base) is about three orders of magnitude more arithmetic per
second of audio; pass ``--model DIR`` to time one.

Run from the repository root::

    .venv/bin/python benchmarks/bench_embeddings.py [--corpus ../shared/corpora/emodb]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile
import torch
import transformers

from sklearn_prognet import SpeechEmbeddingTransformer
from sklearn_prognet.datasets import load_emodb

ROOT = Path(__file__).resolve().parents[1]


def tiny_model(folder):
    config = transformers.Wav2Vec2Config(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(32, 32, 32),
        conv_kernel=(10, 3, 3),
        conv_stride=(5, 2, 2),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
    )
    torch.manual_seed(0)
    transformers.Wav2Vec2Model(config).save_pretrained(folder)
    transformers.Wav2Vec2FeatureExtractor(
        sampling_rate=16000, do_normalize=True
    ).save_pretrained(folder)
    return folder


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", default=str(ROOT.parent / "shared" / "corpora" / "emodb")
    )
    parser.add_argument("--model", default=None, help="default: a tiny random one")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-files", type=int, default=100)
    args = parser.parse_args(argv)

    transformers.utils.logging.disable_progress_bar()
    model = args.model or tiny_model(Path(tempfile.mkdtemp()) / "tiny-wav2vec2")
    if Path(args.corpus, "wav").is_dir():
        files = load_emodb(args.corpus, emotions=None)["file"].to_list()
    else:
        files = sorted(str(p) for p in (ROOT / "tests" / "data").glob("*.wav"))
    files = files[: args.n_files]
    duration = sum(soundfile.info(f).duration for f in files)
    default_threads = torch.get_num_threads()
    print(
        f"{len(files)} EmoDB files, {duration:.1f} s of audio, {os.cpu_count()} "
        f"CPUs, torch {torch.__version__}, transformers {transformers.__version__}, "
        f"model {'tiny random wav2vec2' if args.model is None else model}, "
        f"best of {args.repeats} interleaved runs"
    )
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    def run(n_jobs, threads):
        def call():
            torch.set_num_threads(threads)
            try:
                return embed.set_params(n_jobs=n_jobs).transform(files)
            finally:
                torch.set_num_threads(default_threads)

        return call

    embed = SpeechEmbeddingTransformer(model=model).fit(files)  # loads the model
    runs = {
        "n_jobs=1, 1 torch thread": run(1, 1),
        f"n_jobs=1, {default_threads} torch threads": run(1, default_threads),
        "n_jobs=2, 1 thread each": run(2, default_threads),
    }
    times = {name: [] for name in runs}
    outputs = {}
    for _ in range(args.repeats):
        for name, call in runs.items():
            start = time.perf_counter()
            outputs[name] = call()
            times[name].append(time.perf_counter() - start)
    reference = outputs["n_jobs=1, 1 torch thread"]
    for name, values in outputs.items():
        if not np.allclose(values, reference, rtol=1e-4, atol=1e-5):
            sys.exit(f"{name} gave other embeddings than n_jobs=1")

    print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(
        f"\n{'configuration':28s} {'best s':>8s} {'median s':>9s} "
        f"{'files/s':>8s} {'RTF':>8s}"
    )
    for name, t in times.items():
        best = min(t)
        print(
            f"{name:28s} {best:8.2f} {statistics.median(t):9.2f} "
            f"{len(files) / best:8.1f} {best / duration:8.4f}"
        )
    one = min(times["n_jobs=1, 1 torch thread"])
    two = min(times["n_jobs=2, 1 thread each"])
    print(f"\nn_jobs=2 / n_jobs=1 (1 thread) throughput: {one / two:.2f}")
    print("outputs: equal across configurations (rtol 1e-4)")


if __name__ == "__main__":
    main()
