#!/usr/bin/python3
"""Convert a Hugging Face Llama folder (config.json + safetensors) to GGUF for llama.cpp.

For benchmarking against llama.cpp without network access or `transformers` (which
Debian 12 does not package): reads the safetensors directly with numpy and writes through
llama.cpp's own gguf-py package (GGUFWriter) from a llama.cpp source tree.

    /usr/bin/python3 scripts/hf_to_gguf.py --gguf-py LLAMA_CPP/gguf-py MODEL_DIR OUT.gguf

What it writes, following llama.cpp's convert_hf_to_gguf.py for the llama architecture:
  * llama.* metadata from config.json: context length, embedding length, block count,
    feed-forward length, head counts, rope dimension count and freq base, RMS norm eps,
    vocab size (and key/value length when head_dim is not hidden_size / heads);
  * every tensor under its GGUF name (token_embd, blk.N.attn_q/k/v/output,
    ffn_gate/up/down, attn_norm, ffn_norm, output_norm, output), 2-D tensors kept in their
    dtype (bf16, f16, f32), 1-D tensors (norms) widened to f32 as convert_hf_to_gguf.py does;
  * q_proj and k_proj rows permuted from the Hugging Face rotate-half RoPE layout to the
    interleaved pairs llama.cpp's llama architecture expects (convert's LlamaModel.permute),
    so the GGUF model computes the same function;
  * a synthetic SentencePiece ("llama") vocabulary of vocab_size tokens: <unk>, <s>, </s>,
    the 256 byte tokens <0x00>..<0xFF>, then filler tokens. That is enough for llama-bench,
    which feeds random token ids; it is not the model's real tokenizer, so text generated
    with llama.cpp from this file is meaningless. Use convert_hf_to_gguf.py for that.

Needs numpy: on Debian, `sudo apt-get install python3-numpy` and run with /usr/bin/python3.
"""

import argparse
import json
import os
import struct
import sys
from pathlib import Path


def fail(message: str, code: int = 1) -> None:
    print(f"hf_to_gguf.py: {message}", file=sys.stderr)
    sys.exit(code)


def import_deps(gguf_py: str | None):
    try:
        import numpy as np
    except ImportError:
        fail(f"numpy is missing for {sys.executable}: on Debian run "
             "`sudo apt-get install python3-numpy` and use /usr/bin/python3", 2)
    if gguf_py:
        sys.path.insert(0, gguf_py)
    try:
        import gguf
    except ImportError as e:
        fail(f"cannot import llama.cpp's gguf-py package ({e}): pass --gguf-py "
             "LLAMA_CPP_SOURCE/gguf-py or set PYTHONPATH to it", 2)
    return np, gguf


class SafetensorsReader:
    """Memory-mapped tensors of model.safetensors or of the shards of its index."""

    def __init__(self, np, folder: Path):
        self.np = np
        index = folder / "model.safetensors.index.json"
        if index.is_file():
            weight_map = json.loads(index.read_text())["weight_map"]
            files = sorted(set(weight_map.values()))
        elif (folder / "model.safetensors").is_file():
            files = ["model.safetensors"]
        else:
            fail(f"{folder}: no model.safetensors or model.safetensors.index.json")
        self.entries = {}  # name -> (file, dtype, shape, begin, end)
        for f in files:
            path = folder / f
            with open(path, "rb") as fh:
                (n,) = struct.unpack("<Q", fh.read(8))
                header = json.loads(fh.read(n))
            header.pop("__metadata__", None)
            for name, info in header.items():
                begin, end = info["data_offsets"]
                self.entries[name] = (path, info["dtype"], info["shape"], 8 + n + begin, end - begin)

    def names(self):
        return list(self.entries)

    def dtype(self, name: str) -> str:
        return self.entries[name][1]

    def array(self, name: str):
        """The tensor as stored: float32/float16, or bf16 as uint16 bit patterns."""
        np = self.np
        path, dtype, shape, offset, nbytes = self.entries[name]
        np_dtype = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16}.get(dtype)
        if np_dtype is None:
            fail(f"{name}: dtype {dtype} is not converted (F32, F16, BF16 only)")
        count = nbytes // np.dtype(np_dtype).itemsize
        return np.memmap(path, dtype=np_dtype, mode="r", offset=offset, shape=(count,)).reshape(shape)


def to_f32(np, array, dtype: str):
    if dtype == "BF16":
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array.astype(np.float32)


def permute(weights, n_head: int, n_head_kv: int):
    """convert_hf_to_gguf.py's LlamaModel.permute: rotate-half rows → interleaved pairs."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2)
            .reshape(weights.shape))


def synthetic_vocab(gguf, vocab_size: int):
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + \
        [gguf.TokenType.BYTE] * 256
    if vocab_size < len(tokens):
        fail(f"vocab_size {vocab_size} is below the {len(tokens)} tokens of the synthetic vocab")
    tokens += [f"\u2581t{i}" for i in range(vocab_size - len(tokens))]
    types += [gguf.TokenType.NORMAL] * (vocab_size - len(types))
    scores = [0.0] * 3 + [0.0] * 256 + [-float(i) for i in range(vocab_size - 259)]
    return tokens, scores, types


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", type=Path, help="Hugging Face folder (config.json + safetensors)")
    ap.add_argument("outfile", type=Path, help="GGUF file to write")
    ap.add_argument("--gguf-py", help="llama.cpp's gguf-py folder (else PYTHONPATH)")
    args = ap.parse_args()
    np, gguf = import_deps(args.gguf_py)

    config = json.loads((args.model / "config.json").read_text())
    model_type = config.get("model_type")
    if model_type not in ("llama", "mistral"):
        fail(f"{args.model}/config.json: model_type {model_type!r} (llama and mistral only)")
    if config.get("sliding_window") and config.get("use_sliding_window", True) and \
            model_type == "mistral":
        print("hf_to_gguf.py: note: the llama architecture has no sliding window; "
              "fine for prompts shorter than it", file=sys.stderr)
    rope_scaling = config.get("rope_scaling") or {}
    rope_type = rope_scaling.get("rope_type", rope_scaling.get("type"))
    if rope_type not in (None, "default", "linear"):
        fail(f"rope_scaling {rope_type!r} is not converted by this script "
             "(use llama.cpp's convert_hf_to_gguf.py)")

    hidden = config["hidden_size"]
    n_layer = config["num_hidden_layers"]
    n_head = config["num_attention_heads"]
    n_head_kv = config.get("num_key_value_heads", n_head)
    head_dim = config.get("head_dim") or hidden // n_head
    vocab_size = config["vocab_size"]

    st = SafetensorsReader(np, args.model)
    names = st.names()
    linear_dtypes = {st.dtype(n) for n in names if n.endswith("_proj.weight")}
    if len(linear_dtypes) != 1:
        fail(f"linear weights in several dtypes {sorted(linear_dtypes)}; expected one")
    folder_dtype = linear_dtypes.pop()
    file_type = {"BF16": gguf.LlamaFileType.MOSTLY_BF16, "F16": gguf.LlamaFileType.MOSTLY_F16,
                 "F32": gguf.LlamaFileType.ALL_F32}[folder_dtype]

    tmp = args.outfile.with_name(args.outfile.name + ".tmp")
    writer = gguf.GGUFWriter(tmp, gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA])
    writer.add_name(args.model.resolve().name)
    writer.add_context_length(config.get("max_position_embeddings", 2048))
    writer.add_embedding_length(hidden)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head_kv)
    writer.add_rope_dimension_count(head_dim)
    if head_dim != hidden // n_head:
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    writer.add_rope_freq_base(float(config.get("rope_theta", 10000.0)))
    if rope_type == "linear":
        writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        writer.add_rope_scaling_factor(float(rope_scaling["factor"]))
    writer.add_layer_norm_rms_eps(float(config.get("rms_norm_eps", 1e-5)))
    writer.add_vocab_size(vocab_size)
    writer.add_file_type(file_type)

    tokens, scores, types = synthetic_vocab(gguf, vocab_size)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(config.get("bos_token_id") or 1)
    eos = config.get("eos_token_id", 2)
    writer.add_eos_token_id(eos[0] if isinstance(eos, list) else eos)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)

    name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, n_layer)
    raw_type = {"BF16": gguf.GGMLQuantizationType.BF16}
    count = 0
    for name in names:
        if name.endswith(".rotary_emb.inv_freq"):
            continue  # recomputed from rope_theta
        new_name = name_map.get_name(name, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            fail(f"{name}: no llama GGUF name for this tensor")
        dtype = st.dtype(name)
        data = st.array(name)
        if name.endswith("q_proj.weight") or name.endswith("q_proj.bias"):
            data = permute(data, n_head, n_head)
        elif name.endswith("k_proj.weight") or name.endswith("k_proj.bias"):
            data = permute(data, n_head, n_head_kv)
        if data.ndim <= 1:
            data, dtype = to_f32(np, data, dtype), "F32"
        writer.add_tensor(new_name, data, raw_dtype=raw_type.get(dtype))
        count += 1
    if "lm_head.weight" not in names and not config.get("tie_word_embeddings", False):
        fail("no lm_head.weight and tie_word_embeddings is false")

    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        os.replace(tmp, args.outfile)
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    print(f"wrote {args.outfile}: {count} tensors, {folder_dtype}, "
          f"{args.outfile.stat().st_size / 1e9:.2f} GB, synthetic {vocab_size}-token vocab")


if __name__ == "__main__":
    main()
