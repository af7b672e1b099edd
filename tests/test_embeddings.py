"""Tests of SpeechEmbeddingTransformer and TextEmbeddingTransformer.

Nothing here touches the network: the models are tiny, randomly initialised
wav2vec 2.0 and BERT models built from configs and saved to temporary
folders, and every expected value is computed directly with ``transformers``
(the ground truth), never with the transformer under test.
"""

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import (
    check_estimator_cloneable,
    check_estimator_repr,
    check_estimator_tags_renamed,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    check_valid_tag_types,
)

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

import sklearn_prognet.features._embeddings as embeddings_module  # noqa: E402
from sklearn_prognet import (  # noqa: E402
    SpeechEmbeddingTransformer,
    TextEmbeddingTransformer,
)
from tests.conftest import TINY_WAV2VEC2, save_tiny_wav2vec2  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
FILES = sorted(str(p) for p in DATA.glob("*.wav"))
SR = 16000
HIDDEN = TINY_WAV2VEC2["hidden_size"]
SENTENCES = [
    "the cat sat on the mat",
    "i am happy",
    "the dog ran far away today and i am sad",
    "angry",
]
# No Hugging Face cache holds this: the offline error is certain.
HUB_NAME = "sklearn-prognet-tests/no-such-model"


@pytest.fixture(autouse=True, scope="module")
def _offline_and_one_thread():
    # No test may download; one torch thread is fastest for tiny models, and
    # keeps the results of one process comparable with those of workers.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def speech_dir(tiny_wav2vec2):
    """A tiny random wav2vec 2.0 model in a folder (never modified)."""
    return tiny_wav2vec2


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory):
    """A tiny random BERT model and its WordPiece tokenizer in a folder."""
    folder = tmp_path_factory.mktemp("bert")
    words = sorted({w for s in SENTENCES for w in s.split()})
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words, *letters]
    vocab += [f"##{c}" for c in letters]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    transformers.BertTokenizer(str(folder / "vocab.txt")).save_pretrained(folder)
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = transformers.BertModel(config)
    model.save_pretrained(folder)
    return str(folder)


def _read(path):
    signal, sampling_rate = soundfile.read(path, dtype="float64")
    assert sampling_rate == SR
    return signal


def _hidden_states(folder, signal):
    """hidden_states of the model on one whole signal, computed directly."""
    extractor = transformers.AutoFeatureExtractor.from_pretrained(folder)
    model = transformers.AutoModel.from_pretrained(folder).eval()
    values = extractor(signal, sampling_rate=SR, return_tensors="pt").input_values
    with torch.no_grad():
        states = model(values, output_hidden_states=True).hidden_states
    return [state[0].double().numpy() for state in states]


@pytest.fixture(scope="module")
def direct(speech_dir):
    """hidden_states of every test file, computed directly."""
    return [_hidden_states(speech_dir, _read(f)) for f in FILES]


def _close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)


# -- import and API -----------------------------------------------------------


def test_import_is_lazy():
    code = (
        "import sys, sklearn_prognet.features._embeddings\n"
        "from sklearn_prognet import SpeechEmbeddingTransformer, "
        "TextEmbeddingTransformer\n"
        "SpeechEmbeddingTransformer(layer='all').get_params()\n"
        "TextEmbeddingTransformer().get_params()\n"
        "assert 'transformers' not in sys.modules, 'transformers imported'\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "check",
    [
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
        check_estimator_cloneable,
        check_estimator_repr,
        check_estimator_tags_renamed,
        check_valid_tag_types,
    ],
)
@pytest.mark.parametrize("cls", [SpeechEmbeddingTransformer, TextEmbeddingTransformer])
def test_sklearn_api_checks(check, cls):
    # sklearn's common checks skip a transformer whose input is not 2-D.
    check(cls.__name__, cls())


@pytest.mark.parametrize("cls", [SpeechEmbeddingTransformer, TextEmbeddingTransformer])
def test_tags(cls):
    tags = cls().__sklearn_tags__()
    assert tags.input_tags.two_d_array is False
    assert tags.input_tags.one_d_array is True
    assert tags.input_tags.string is True
    assert tags.requires_fit is False


def test_missing_transformers_says_how_to_install(monkeypatch, speech_dir):
    monkeypatch.setitem(sys.modules, "transformers", None)  # import fails
    for estimator, X in [
        (SpeechEmbeddingTransformer(model=speech_dir), FILES),
        (TextEmbeddingTransformer(model=speech_dir), SENTENCES),
    ]:
        with pytest.raises(ImportError, match=r"pip install 'sklearn-prognet\[emb"):
            estimator.fit(X)


def test_pickle_clone_and_fit_attributes(speech_dir, direct):
    embed = SpeechEmbeddingTransformer(model=speech_dir, pooling="mean+std")
    embed.fit(FILES)
    assert embed.n_output_features_ == 2 * HIDDEN
    np.testing.assert_array_equal(embed.feature_names_, embed.get_feature_names_out())
    assert not hasattr(clone(embed), "feature_names_")
    restored = pickle.loads(pickle.dumps(embed))
    np.testing.assert_array_equal(
        restored.transform(FILES[:1]), embed.transform(FILES[:1])
    )


@pytest.mark.parametrize(
    "params, match",
    [
        ({"pooling": "max"}, "pooling"),
        ({"layer": "last"}, "layer"),
        ({"chunk_length_s": 0}, "chunk_length_s"),
        ({"channel": -1}, "channel"),
        ({"on_error": "skip"}, "on_error"),
    ],
)
def test_invalid_parameters(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        SpeechEmbeddingTransformer(**params).fit(FILES)


# -- speech: values -------------------------------------------------------------


def test_equals_transformers_direct(speech_dir, direct):
    # mean over time of hidden_states[-1], for each file
    X = SpeechEmbeddingTransformer(model=speech_dir).fit_transform(FILES)
    assert X.shape == (len(FILES), HIDDEN)
    assert X.dtype == np.float64
    _close(X, [states[-1].mean(axis=0) for states in direct])


def test_mean_std_blocks_in_order(speech_dir, direct):
    embed = SpeechEmbeddingTransformer(
        model=speech_dir, layer=[2, 0], pooling="mean+std"
    )
    X = embed.fit_transform(FILES)
    expected = [
        np.concatenate(
            [s[2].mean(0), s[2].std(0, ddof=0), s[0].mean(0), s[0].std(0, ddof=0)]
        )
        for s in direct
    ]
    _close(X, expected)
    names = embed.get_feature_names_out()
    assert list(names[[0, HIDDEN, 2 * HIDDEN, 4 * HIDDEN - 1]]) == [
        "layer2_mean_0",
        "layer2_std_0",
        "layer0_mean_0",
        f"layer0_std_{HIDDEN - 1}",
    ]


def test_layer_all_and_negative_indices(speech_dir, direct):
    X = SpeechEmbeddingTransformer(model=speech_dir, layer="all").fit_transform(FILES)
    assert X.shape == (len(FILES), 3 * HIDDEN)
    # the block of layer 1 is the mean of hidden_states[1]
    _close(X[:, HIDDEN : 2 * HIDDEN], [s[1].mean(0) for s in direct])
    last = SpeechEmbeddingTransformer(model=speech_dir, layer=-1).transform(FILES)
    np.testing.assert_array_equal(last, X[:, 2 * HIDDEN :])


@pytest.mark.parametrize("n_samples", [16900, 3 * 1600 + 30])
def test_chunks_pool_all_frames(speech_dir, n_samples):
    # chunk_length_s=0.1 is 1600 samples. The reference normalises the whole
    # signal once, runs each chunk on its own and pools all their frames
    # together, so each chunk weighs as much as its frames (the last chunk of
    # 16900 samples is shorter; one of 30 samples is too short for the model
    # and joins the chunk before).
    signal = _read(FILES[0])[8000 : 8000 + n_samples]
    extractor = transformers.AutoFeatureExtractor.from_pretrained(speech_dir)
    model = transformers.AutoModel.from_pretrained(speech_dir).eval()
    values = extractor(signal, sampling_rate=SR, return_tensors="pt").input_values
    starts = list(range(0, n_samples, 1600))
    if n_samples - starts[-1] < 40:
        starts.pop()
    ends = [*starts[1:], n_samples]
    frames = []
    with torch.no_grad():
        for start, end in zip(starts, ends, strict=True):
            out = model(values[:, start:end], output_hidden_states=True)
            frames.append(out.hidden_states[-1][0].double().numpy())
    frames = np.concatenate(frames)
    embed = SpeechEmbeddingTransformer(
        model=speech_dir, sampling_rate=SR, chunk_length_s=0.1, pooling="mean+std"
    )
    X = embed.fit_transform([signal])
    _close(X[0], np.concatenate([frames.mean(0), frames.std(0)]))
    # and a chunk longer than the signal is the direct computation
    whole = _hidden_states(speech_dir, signal)[-1]
    unchunked = embed.set_params(chunk_length_s=20.0).transform([signal])
    _close(unchunked[0], np.concatenate([whole.mean(0), whole.std(0)]))


def test_parallel_equals_sequential(speech_dir):
    embed = SpeechEmbeddingTransformer(model=speech_dir, layer="all")
    sequential = embed.fit_transform(FILES)
    parallel = embed.set_params(n_jobs=2).transform(FILES)
    _close(parallel, sequential)


def test_resampling_equals_resampled_array(tmp_path, speech_dir):
    audresample = pytest.importorskip("audresample")
    signal = _read(FILES[1]).astype(np.float32)
    low = audresample.resample(signal, SR, 8000)[0]
    path = tmp_path / "8k.wav"
    soundfile.write(path, low, 8000, subtype="FLOAT")
    embed = SpeechEmbeddingTransformer(model=speech_dir)
    from_file = embed.fit_transform([str(path)])
    up = audresample.resample(low, 8000, SR)[0]
    from_array = embed.set_params(sampling_rate=SR).transform([up])
    np.testing.assert_allclose(from_file, from_array, rtol=1e-6, atol=1e-7)
    # ... and the model saw 16 kHz: the array at 8 kHz gives the same
    from_low = embed.set_params(sampling_rate=8000).transform([low])
    np.testing.assert_allclose(from_low, from_file, rtol=1e-6, atol=1e-7)


class _Counter:
    """Wraps _embeddings._embed to count the real model runs."""

    def __init__(self, monkeypatch):
        self.calls = 0
        self._embed = embeddings_module._embed
        monkeypatch.setattr(embeddings_module, "_embed", self)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self._embed(*args, **kwargs)


def test_cache_follows_content_model_and_settings(tmp_path, monkeypatch):
    folder = save_tiny_wav2vec2(tmp_path / "model", seed=1)
    cache = tmp_path / "cache"
    counter = _Counter(monkeypatch)
    embed = SpeechEmbeddingTransformer(model=folder, memory=cache)
    first = embed.fit_transform(FILES)
    assert counter.calls == len(FILES)
    np.testing.assert_array_equal(embed.transform(FILES), first)  # hit
    assert counter.calls == len(FILES)
    # other weights, same config, same folder: a miss, and other features
    save_tiny_wav2vec2(folder, seed=2)
    retrained = embed.transform(FILES)
    assert counter.calls == 2 * len(FILES)
    assert not np.allclose(retrained, first)
    # the layers and the pooling are part of the key
    embed.set_params(layer=0).transform(FILES)
    embed.set_params(pooling="mean+std").transform(FILES)
    assert counter.calls == 4 * len(FILES)


# -- speech: errors ---------------------------------------------------------------


def test_receptive_field_matches_transformers(speech_dir):
    from sklearn_prognet.features._embeddings import _receptive_field

    model = transformers.AutoModel.from_pretrained(speech_dir)
    field, stride = _receptive_field(model.config)
    assert (field, stride) == (40, 20)
    lengths = model._get_feat_extract_output_lengths(torch.tensor([39, 40, 60]))
    assert lengths.tolist() == [0, 1, 2]
    # wav2vec2-base, HuBERT and WavLM: 400 samples (25 ms) and 320 (20 ms)
    for config in (transformers.Wav2Vec2Config(), transformers.HubertConfig()):
        assert _receptive_field(config) == (400, 320)


def test_too_short_clip_names_file_and_minimum(tmp_path, speech_dir):
    short = tmp_path / "short.wav"
    soundfile.write(short, 0.1 * np.ones(39), SR)
    embed = SpeechEmbeddingTransformer(model=speech_dir)
    with pytest.raises(ValueError, match=r"short\.wav.*too short.*40 samples = 2\.5"):
        embed.fit_transform([FILES[0], str(short)])
    with pytest.warns(UserWarning, match=r"short\.wav"):
        X = embed.set_params(on_error="nan").transform([FILES[0], str(short)])
    assert np.isnan(X[1]).all() and not np.isnan(X[0]).any()


def test_shared_input_checks(tmp_path, speech_dir):
    embed = SpeechEmbeddingTransformer(model=speech_dir)
    with pytest.raises(FileNotFoundError, match=r"missing\.wav"):
        embed.fit_transform([str(tmp_path / "missing.wav")])
    with pytest.raises(ValueError, match="SpeechEmbeddingTransformer takes audio"):
        embed.fit(np.zeros((3, 100)))
    with pytest.raises(ValueError, match="sampling_rate must be set"):
        embed.fit([np.zeros(SR)])
    with pytest.raises(ValueError, match=r"X\[0\] has samples that are not finite"):
        embed.set_params(sampling_rate=SR).transform([np.full(SR, np.nan)])


@pytest.mark.parametrize(
    "model, error, match",
    [
        (HUB_NAME, OSError, "`hf download " + HUB_NAME + " --local-dir"),
        ("not a model name!", ValueError, "neither a folder nor a Hugging Face"),
        ("/no/such/folder", ValueError, "/no/such/folder"),
        (Path("/no/such/folder"), ValueError, "no such folder"),
    ],
)
def test_unknown_or_unreachable_model(model, error, match):
    for estimator, X in [
        (SpeechEmbeddingTransformer(model=model), FILES),
        (TextEmbeddingTransformer(model=model), SENTENCES),
    ]:
        with pytest.raises(error, match=match):
            estimator.fit(X)


def test_hub_name_found_in_local_cache_runs_offline(monkeypatch, speech_dir, direct):
    import huggingface_hub

    def snapshot_download(name, local_files_only=False, **kwargs):
        assert local_files_only, "tried to download"
        if name != "org/tiny":
            raise huggingface_hub.errors.LocalEntryNotFoundError("not cached")
        return speech_dir  # where the Hugging Face cache would hold it

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    X = SpeechEmbeddingTransformer(model="org/tiny").fit_transform(FILES)
    _close(X, [states[-1].mean(axis=0) for states in direct])


@pytest.mark.parametrize(
    "failure, error, match",
    [
        ("RepositoryNotFoundError", ValueError, "nor a model on the Hugging Face"),
        ("ConnectionError", OSError, "downloading it failed.*`hf download"),
    ],
)
def test_download_errors_when_online(monkeypatch, failure, error, match):
    # Online (no HF_HUB_OFFLINE), not cached, and the download fails: an
    # unknown name is told apart from a network failure.
    import huggingface_hub

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)

    def snapshot_download(name, local_files_only=False, **kwargs):
        raise huggingface_hub.errors.LocalEntryNotFoundError("not cached")

    def fetch(name):
        if failure == "ConnectionError":
            raise ConnectionError("no route to host")
        # as transformers raises it: an OSError caused by the Hub's answer
        cls = huggingface_hub.errors.RepositoryNotFoundError
        raise OSError("not a valid model identifier") from cls.__new__(cls)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    # the Hub is reached (never the real one): the download fails after that
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", lambda *a, **k: None)
    monkeypatch.setattr(embeddings_module, "_fetch_speech", fetch)
    with pytest.raises(error, match=match):
        SpeechEmbeddingTransformer(model=HUB_NAME).fit(FILES)


def test_folder_that_is_not_a_speech_model(tmp_path, bert_dir):
    with pytest.raises(ValueError, match="without config.json"):
        SpeechEmbeddingTransformer(model=tmp_path).fit(FILES)
    with pytest.raises(ValueError, match="is a 'bert' model"):
        SpeechEmbeddingTransformer(model=bert_dir).fit(FILES)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"layer": 3}, ValueError, "has 3 hidden states"),
        ({"layer": [0, -3]}, ValueError, "twice"),
        ({"layer": []}, ValueError, "no layer"),
        ({"layer": [1.0]}, TypeError, "not an integer"),
        ({"chunk_length_s": 0.002}, ValueError, r"chunk_length_s=0.002.*40 samples"),
        ({"device": "gpu"}, ValueError, "device='gpu'"),
    ],
)
def test_bad_settings_for_the_model(speech_dir, params, error, match):
    with pytest.raises(error, match=match):
        SpeechEmbeddingTransformer(model=speech_dir, **params).fit(FILES)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_equals_cpu(speech_dir):
    embed = SpeechEmbeddingTransformer(model=speech_dir, layer="all")
    cpu = embed.fit_transform(FILES)
    cuda = embed.set_params(device="cuda").transform(FILES)
    np.testing.assert_allclose(cuda, cpu, rtol=1e-3, atol=1e-4)
    spawned = embed.set_params(n_jobs=2).transform(FILES)
    np.testing.assert_allclose(spawned, cpu, rtol=1e-3, atol=1e-4)


# -- text -----------------------------------------------------------------------


def _direct_text(folder, sentence):
    """hidden_states of one sentence alone (no padding), computed directly."""
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    model = transformers.AutoModel.from_pretrained(folder).eval()
    with torch.no_grad():
        tokens = tokenizer(sentence, return_tensors="pt")
        states = model(**tokens, output_hidden_states=True).hidden_states
    return [state[0].double().numpy() for state in states]


def test_text_mean_pooling_equals_direct(bert_dir):
    embed = TextEmbeddingTransformer(model=bert_dir, layer=[0, -1])
    X = embed.fit_transform(SENTENCES)  # one padded batch
    direct = [_direct_text(bert_dir, s) for s in SENTENCES]
    _close(X, [np.concatenate([s[0].mean(0), s[2].mean(0)]) for s in direct])
    one_by_one = embed.set_params(batch_size=1).transform(SENTENCES)
    _close(X, one_by_one)
    assert list(embed.get_feature_names_out()[[0, HIDDEN]]) == [
        "layer0_mean_0",
        "layer2_mean_0",
    ]
    cls = embed.set_params(pooling="cls", layer=-1).transform(SENTENCES)
    _close(cls, [s[2][0] for s in direct])


def test_text_inputs_and_errors(bert_dir, speech_dir):
    embed = TextEmbeddingTransformer(model=bert_dir)
    expected = embed.fit_transform(SENTENCES)
    frame = pd.DataFrame({"transcript": SENTENCES})
    np.testing.assert_array_equal(embed.transform(frame), expected)
    np.testing.assert_array_equal(embed.transform(frame["transcript"]), expected)
    with pytest.raises(TypeError, match=r"X\[1\] is float \(nan\)"):
        embed.transform(["hello", np.nan])
    with pytest.raises(ValueError, match="single string"):
        embed.transform("the cat sat")
    with pytest.raises(ValueError, match="no tokenizer"):
        TextEmbeddingTransformer(model=speech_dir).fit(SENTENCES)
    with pytest.warns(UserWarning, match=r"2 of 4 transcripts.*X\[0\], X\[2\]"):
        embed.set_params(max_length=7).transform(SENTENCES)


def test_fusion_with_column_transformer(speech_dir, bert_dir, direct):
    table = pd.DataFrame({"file": FILES, "transcript": SENTENCES})
    fused = ColumnTransformer(
        [
            ("speech", SpeechEmbeddingTransformer(model=speech_dir), "file"),
            ("text", TextEmbeddingTransformer(model=bert_dir), "transcript"),
        ]
    )
    X = fused.fit_transform(table)
    assert X.shape == (len(FILES), 2 * HIDDEN)
    _close(X[:, :HIDDEN], [s[-1].mean(0) for s in direct])
    names = fused.get_feature_names_out()
    assert (
        names[0] == "speech__layer2_mean_0" and names[HIDDEN] == "text__layer2_mean_0"
    )
