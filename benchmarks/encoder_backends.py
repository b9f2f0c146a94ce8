"""`python -m benchmarks.encoder_backends`: the default model's speed on this machine, PyTorch vs ONNX Runtime.

Three ways to run all-MiniLM-L6-v2 on the CPU, each producing unit vectors (mean pooling, as the
model's sentence-transformers configuration says):

* ``torch-fp32``: sentence-transformers as the product runs it;
* ``onnx-fp32``: the same transformer exported with ``torch.onnx.export`` and run by onnxruntime;
* ``onnx-int8``: that export with dynamic int8 quantisation of its weights (onnxruntime.quantization).

(sentence-transformers' own ONNX backend needs ``optimum``, whose releases pin transformers < 5; the
export here is what it would do.) Reported: build throughput in passages/s on evaluation passages,
question encoding p50/p95 (one question at a time, warm), and how far each backend's vectors are
from PyTorch's. ``--vectors DATASET`` also writes each backend's passage and question vectors for a
quality check with :mod:`benchmarks.fusion_tuning`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.semantic_data import DEFAULT_CACHE, SQUAD, documents
from qa.evaluate.evaldata import load_eval_set
from qa.models.bundled import BUNDLED_MODEL

MAX_TOKENS = 256


class OnnxEncoder:
    """A BERT sentence encoder run by onnxruntime: tokenise, run, mean-pool over the mask, normalise."""

    def __init__(self, model_file: Path, tokenizer_file: Path, threads: int | None = None) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(MAX_TOKENS)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        order = np.argsort(
            [len(text) for text in texts]
        )  # similar lengths share a batch, as sentence-transformers does
        for start in range(0, len(texts), batch_size):
            chosen = order[start : start + batch_size]
            encoded = self.tokenizer.encode_batch([texts[i] for i in chosen])
            width = max(len(e.ids) for e in encoded)
            ids = np.zeros((len(chosen), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, e in enumerate(encoded):  # tokenizer.json may pad a batch itself: use its mask
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.attention_mask)] = e.attention_mask
            hidden = self.session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )[0]
            pooled = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
            out[chosen] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out


def export(folder: Path, work: Path) -> tuple[Path, Path]:
    """The model's transformer as ONNX (fp32) and its int8 dynamic quantisation, written once into ``work``."""
    fp32, int8 = work / "minilm-fp32.onnx", work / "minilm-int8.onnx"
    if not fp32.is_file():
        import torch
        from transformers import AutoModel

        class Transformer(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                # eager attention: the default (sdpa) path drops an all-ones mask while tracing, and the
                # exported graph then attends to padding (cosine to PyTorch 0.65 on padded batches)
                self.bert = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()

            def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
                out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
                return out.last_hidden_state

        model = Transformer().eval()
        sample = torch.ones((2, 8), dtype=torch.int64)
        mask = torch.ones_like(sample)
        mask[1, 5:] = 0  # a padded row, so the mask's path is traced
        axes = {0: "batch", 1: "tokens"}
        torch.onnx.export(
            model,
            (sample, mask, torch.zeros_like(sample)),
            str(fp32),
            dynamo=False,
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "last_hidden_state": axes},
            opset_version=17,
        )
    if not int8.is_file():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    return fp32, int8


def timed(encode: Any, texts: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (this process, all threads) of encoding ``texts``."""
    started, started_cpu = time.perf_counter(), time.process_time()
    encode(texts)
    return time.perf_counter() - started, time.process_time() - started_cpu


def question_latency(encode: Any, questions: list[str]) -> dict[str, float]:
    """One question at a time, warm: wall p50/p95 and CPU p50/p95 in ms (CPU: what it costs on a busy machine)."""
    for question in questions[:5]:
        encode([question])
    wall, cpu = [], []
    for question in questions:
        spent = timed(encode, [question])
        wall.append(spent[0] * 1000)
        cpu.append(spent[1] * 1000)
    wall.sort()
    cpu.sort()
    at95 = int(0.95 * (len(wall) - 1))
    return {
        "p50_ms": statistics.median(wall),
        "p95_ms": wall[at95],
        "cpu_p50_ms": statistics.median(cpu),
        "cpu_p95_ms": cpu[at95],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval-data", type=Path, default=Path(__file__).resolve().parents[1] / "../shared/eval")
    parser.add_argument("--passages", type=int, default=256, help="SQuAD paragraphs timed per backend")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--threads", type=int, help="intra-op threads for torch and onnxruntime (default: theirs)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    from qa.models.bundled import bundled_folder
    from qa.models.encoder import load_encoder

    encoder = load_encoder(BUNDLED_MODEL)
    folder = bundled_folder()
    fp32, int8 = export(folder, args.cache)
    squad = load_eval_set(args.eval_data.resolve() / SQUAD)
    rng = np.random.default_rng(0)
    passages = [documents(squad.articles)[i] for i in rng.choice(len(squad.articles), args.passages, replace=False)]
    questions = [q.text for q in squad.queries[: args.questions]]
    backends = {
        "torch-fp32": lambda texts: encoder.encode_passages(texts),
        "onnx-fp32": OnnxEncoder(fp32, folder / "tokenizer.json", args.threads).encode,
        "onnx-int8": OnnxEncoder(int8, folder / "tokenizer.json", args.threads).encode,
    }
    reference = backends["torch-fp32"](passages)
    results: dict[str, Any] = {}
    for name, encode in backends.items():
        encode(passages[:32])  # warm-up
        seconds, cpu_seconds = timed(encode, passages)
        vectors = encode(passages)
        results[name] = {
            "passages_per_second": len(passages) / seconds,
            "passages_per_cpu_second": len(passages) / cpu_seconds,
            "question": question_latency(encode, questions),
            "cosine_to_torch_min": float((vectors * reference).sum(1).min()),
            "cosine_to_torch_mean": float((vectors * reference).sum(1).mean()),
        }
        print(name, json.dumps(results[name]), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
