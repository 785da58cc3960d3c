#!/usr/bin/env python3
"""Trains the ME-Switch Studio demo expert pack from scratch (CPU, fixed seeds).

Maintainer tool, not part of the build or of CI. Needs Debian's PyTorch and NumPy:

    apt-get install -y python3-torch python3-numpy
    python3 resources/demo/train_demo.py            # writes resources/demo/pack and eval/
    python3 resources/demo/train_demo.py --reuse-base   # keeps pack/base, retrains the experts

What it makes (all data is generated here from templates; nothing is downloaded):
  pack/base/       a small Llama (HF format) pre-trained on generic templated English and
                   small talk in the chat format
  pack/arithmetic/ the base fine-tuned on two-number addition ("What is 17+25?" -> "42")
  pack/python/     the base fine-tuned on one-line Python functions
  pack/facts/      the base fine-tuned on short factual question answering
  pack/domains/<domain>.txt   example prompts per domain (the router is trained on these)
  pack/pack.json   the pack's manifest (names, descriptions, folders)
  eval/            held-out evaluation sets (generated apart from the training data)

Every model folder holds config.json, model.safetensors (float16), tokenizer.json (a BPE
built by this script) and tokenizer_config.json (with a chat_template).
Licence of the pack and of this script: MIT, like the project.
"""
import json
import math
import os
import random
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
PACK = os.path.join(HERE, "pack")
EVAL = os.path.join(HERE, "eval")

SEED = 20261122
torch.set_num_threads(int(os.environ.get("DEMO_THREADS", "1")))

# ----------------------------------------------------------------------------------- data

NAMES = ["Anna", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gina", "Hugo", "Iris", "Jack", "Lena",
         "Max", "Nora", "Omar", "Pia", "Sam", "Tom", "Uma", "Vera", "Zoe"]
ANIMALS = ["cat", "dog", "bird", "fox", "horse", "rabbit", "duck", "mouse", "goat", "frog"]
PLACES = ["garden", "park", "kitchen", "forest", "school", "river", "village", "market",
          "library", "beach"]
THINGS = ["ball", "book", "apple", "kite", "cup", "hat", "box", "lamp", "bike", "letter"]
ADJ = ["small", "big", "happy", "quiet", "red", "green", "old", "new", "warm", "bright"]
VERBS = ["found", "saw", "liked", "painted", "carried", "washed", "opened", "shared"]
WEATHER = ["sunny", "rainy", "windy", "cold", "warm", "cloudy"]


def generic_sentence(r):
    n, a, p, t = r.choice(NAMES), r.choice(ANIMALS), r.choice(PLACES), r.choice(THINGS)
    forms = [
        f"{n} {r.choice(VERBS)} a {r.choice(ADJ)} {t} in the {p}.",
        f"The {r.choice(ADJ)} {a} went to the {p} with {n}.",
        f"It was a {r.choice(WEATHER)} day, so {n} stayed in the {p}.",
        f"{n} and {r.choice(NAMES)} played with a {t} near the {p}.",
        f"One day a {a} {r.choice(VERBS)} a {t} and felt {r.choice(ADJ)}.",
        f"In the {p} there was a {r.choice(ADJ)} {a} that loved its {t}.",
        f"{n} had {r.randint(2, 9)} {t}s and gave one to a {a}.",
    ]
    return r.choice(forms)


SMALLTALK = [
    ("Hello!", "Hello! How can I help you today?"),
    ("Hi there.", "Hi! What would you like to talk about?"),
    ("How are you?", "I am fine, thank you. How are you?"),
    ("Thank you.", "You are welcome."),
    ("Who are you?", "I am a small demo model of ME-Switch Studio."),
    ("Good morning.", "Good morning! I hope you have a nice day."),
    ("Tell me something.", "Here is a fact: a small model can still be useful."),
    ("What can you do?", "I can chat a little. My experts know sums, Python and facts."),
]


def smalltalk_pair(r):
    if r.random() < 0.5:
        return r.choice(SMALLTALK)
    n, a, p = r.choice(NAMES), r.choice(ANIMALS), r.choice(PLACES)
    forms = [
        (f"Tell me a story about a {a}.", generic_sentence(r) + " " + generic_sentence(r)),
        (f"Where is {n}?", f"{n} is in the {p}."),
        (f"What did {n} see?", f"{n} saw a {r.choice(ADJ)} {a}."),
    ]
    return r.choice(forms)


# Arithmetic: addition of two numbers 0..99. Prompt templates; the answer is the number.
ARITH_TEMPLATES = ["What is {a}+{b}?", "What is {a} + {b}?", "Compute {a}+{b}.",
                   "Add {a} and {b}.", "How much is {a} plus {b}?", "Calculate {a} + {b}."]


def arith_pairs():
    return [(a, b) for a in range(100) for b in range(100)]


def arith_item(a, b, r):
    return r.choice(ARITH_TEMPLATES).format(a=a, b=b), str(a + b)


# Python: one-line functions. (name, description template, body template)
PY_OPS = [
    ("add_{k}", "adds {k} to {v}", "return {v} + {k}"),
    ("sub_{k}", "subtracts {k} from {v}", "return {v} - {k}"),
    ("mul_{k}", "multiplies {v} by {k}", "return {v} * {k}"),
    ("div_{k}", "divides {v} by {k}", "return {v} / {k}"),
    ("pow_{k}", "raises {v} to the power {k}", "return {v} ** {k}"),
    ("mod_{k}", "returns {v} modulo {k}", "return {v} % {k}"),
    ("is_above_{k}", "checks whether {v} is greater than {k}", "return {v} > {k}"),
    ("is_below_{k}", "checks whether {v} is less than {k}", "return {v} < {k}"),
    ("equals_{k}", "checks whether {v} equals {k}", "return {v} == {k}"),
    ("first_{k}", "returns the first {k} items of {v}", "return {v}[:{k}]"),
    ("last_{k}", "returns the last {k} items of {v}", "return {v}[-{k}:]"),
    ("repeat_{k}", "repeats {v} {k} times", "return {v} * {k}"),
]
PY_UNARY = [
    ("square", "returns the square of {v}", "return {v} * {v}"),
    ("double", "doubles {v}", "return {v} * 2"),
    ("negate", "negates {v}", "return -{v}"),
    ("length", "returns the length of {v}", "return len({v})"),
    ("reverse", "reverses {v}", "return {v}[::-1]"),
    ("total", "returns the sum of {v}", "return sum({v})"),
    ("biggest", "returns the largest item of {v}", "return max({v})"),
    ("smallest", "returns the smallest item of {v}", "return min({v})"),
    ("upper", "turns {v} into upper case", "return {v}.upper()"),
    ("lower", "turns {v} into lower case", "return {v}.lower()"),
    ("is_even", "checks whether {v} is even", "return {v} % 2 == 0"),
    ("is_empty", "checks whether {v} is empty", "return len({v}) == 0"),
    ("sorted_copy", "returns a sorted copy of {v}", "return sorted({v})"),
    ("absolute", "returns the absolute value of {v}", "return abs({v})"),
    ("half", "halves {v}", "return {v} / 2"),
    ("to_text", "converts {v} to a string", "return str({v})"),
]
PY_VARS = ["x", "n", "value", "items", "s", "data"]
PY_TEMPLATES = ["Write a Python function that {d}.", "Write a Python function {f} that {d}.",
                "Python: define {f}, which {d}.", "Give me a Python function that {d}."]


def py_items():
    """Every (prompt-kind-independent) function spec: (fname, description, code)."""
    out = []
    for v in PY_VARS:
        for name, d, body in PY_UNARY:
            out.append((name, d.format(v=v), f"def {name}({v}): " + body.format(v=v)))
        for k in range(2, 10):
            for name, d, body in PY_OPS:
                f = name.format(k=k)
                out.append((f, d.format(v=v, k=k), f"def {f}({v}): " + body.format(v=v, k=k)))
    return out


def py_item(spec, r):
    f, d, code = spec
    return r.choice(PY_TEMPLATES).format(f=f, d=d), code


# Facts: a small world of facts, each asked with several phrasings.
COUNTRIES = [("France", "Paris", "French"), ("Germany", "Berlin", "German"),
             ("Italy", "Rome", "Italian"), ("Spain", "Madrid", "Spanish"),
             ("Japan", "Tokyo", "Japanese"), ("China", "Beijing", "Chinese"),
             ("Egypt", "Cairo", "Arabic"), ("Brazil", "Brasilia", "Portuguese"),
             ("Canada", "Ottawa", "English"), ("Russia", "Moscow", "Russian"),
             ("Greece", "Athens", "Greek"), ("Portugal", "Lisbon", "Portuguese"),
             ("Poland", "Warsaw", "Polish"), ("Sweden", "Stockholm", "Swedish"),
             ("Norway", "Oslo", "Norwegian"), ("Kenya", "Nairobi", "Swahili"),
             ("India", "New Delhi", "Hindi"), ("Mexico", "Mexico City", "Spanish"),
             ("Peru", "Lima", "Spanish"), ("Austria", "Vienna", "German"),
             ("Ireland", "Dublin", "English"), ("Turkey", "Ankara", "Turkish"),
             ("Finland", "Helsinki", "Finnish"), ("Chile", "Santiago", "Spanish")]
FACTS_MISC = [
    ("How many legs does a spider have?", "Eight."),
    ("How many days are in a week?", "Seven."),
    ("How many continents are there?", "Seven."),
    ("What is the largest planet?", "Jupiter."),
    ("What is the closest star to Earth?", "The Sun."),
    ("What gas do plants take in?", "Carbon dioxide."),
    ("What is the boiling point of water?", "100 degrees Celsius."),
    ("What is the freezing point of water?", "0 degrees Celsius."),
    ("Who wrote Hamlet?", "William Shakespeare."),
    ("Who painted the Mona Lisa?", "Leonardo da Vinci."),
    ("What is the largest ocean?", "The Pacific Ocean."),
    ("What is the longest river?", "The Nile."),
    ("What is the chemical symbol for gold?", "Au."),
    ("What is the chemical symbol for water?", "H2O."),
    ("How many hours are in a day?", "Twenty-four."),
    ("What is the tallest mountain?", "Mount Everest."),
    ("Which planet is called the red planet?", "Mars."),
    ("What do bees make?", "Honey."),
    ("What is the hardest natural material?", "Diamond."),
    ("How many months are in a year?", "Twelve."),
]
CAPITAL_Q = ["What is the capital of {c}?", "Which city is the capital of {c}?",
             "Name the capital of {c}.", "Tell me the capital of {c}."]
LANG_Q = ["What language is spoken in {c}?", "Which language do people speak in {c}?",
          "What is the main language of {c}?"]
CAPITAL_OF_Q = ["{cap} is the capital of which country?", "Which country has {cap} as its capital?"]


def fact_specs():
    """(question template list, fill, answer) groups; held-out uses unseen phrasings."""
    specs = []
    for c, cap, lang in COUNTRIES:
        specs.append(([q.format(c=c) for q in CAPITAL_Q], cap + "."))
        specs.append(([q.format(c=c) for q in LANG_Q], lang + "."))
        specs.append(([q.format(cap=cap) for q in CAPITAL_OF_Q], c + "."))
    for q, a in FACTS_MISC:
        specs.append(([q, "Question: " + q[0].lower() + q[1:], "Quick question: " + q], a))
    return specs


# ------------------------------------------------------------------------ chat formatting

CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ 'System: ' + message['content'] + ' ' }}"
    "{% elif message['role'] == 'user' %}{{ 'User: ' + message['content'] + ' ' }}"
    "{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' + message['content'] + eos_token }}"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}")


def chat_text(q, a):
    """The text after BOS for one exchange, EOS handled by the caller."""
    return f"User: {q} Assistant: {a}"


def prompt_text(q):
    return f"User: {q} Assistant:"


# ---------------------------------------------------------------------------- tokenizer

SP = "\u2581"  # SentencePiece's space marker
SPECIALS = ["<unk>", "<s>", "</s>"]
VOCAB_SIZE = 768


def normalize(text):
    return SP + text.replace(" ", SP) if text else ""


def train_bpe(corpus):
    """Byte-fallback BPE in the SentencePiece style (no pre-tokenizer). Digits never merge,
    so numbers are read digit by digit."""
    chars = sorted({ch for line in corpus for ch in normalize(line)})
    vocab = list(SPECIALS) + [f"<0x{b:02X}>" for b in range(256)] + chars
    words = {}
    # Count over whitespace-separated chunks (the BPE merge order is global; chunking only
    # speeds up counting and merges never span a space marker boundary in our data because
    # we refuse merges whose right part starts with SP).
    for line in corpus:
        for w in normalize(line).split(SP):
            if w:
                words[SP + w] = words.get(SP + w, 0) + 1
    seqs = {w: list(w) for w in words}
    merges = []
    while len(vocab) < VOCAB_SIZE:
        counts = {}
        for w, n in words.items():
            s = seqs[w]
            for i in range(len(s) - 1):
                a, b = s[i], s[i + 1]
                if any(c.isdigit() for c in a + b) or b.startswith(SP):
                    continue
                counts[(a, b)] = counts.get((a, b), 0) + n
        if not counts:
            break
        (a, b), n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        if n < 2:
            break
        merges.append((a, b))
        vocab.append(a + b)
        for w in words:
            s = seqs[w]
            i, out = 0, []
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
    return vocab, merges


class Tok:
    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.ids = {p: i for i, p in enumerate(vocab)}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.cache = {}

    def encode(self, text):
        """HF BPE semantics on the whole normalised text: repeatedly merge the adjacent pair
        with the lowest merge rank; unknown characters fall back to bytes."""
        if text in self.cache:
            return self.cache[text]
        s = list(normalize(text))
        while True:
            best, bi = None, -1
            for i in range(len(s) - 1):
                r = self.ranks.get((s[i], s[i + 1]))
                if r is not None and (best is None or r < best):
                    best, bi = r, i
            if best is None:
                break
            # HF merges every occurrence of the best pair, left to right
            a, b = s[bi], s[bi + 1]
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            s = out
        ids = []
        for p in s:
            if p in self.ids:
                ids.append(self.ids[p])
            else:
                ids.extend(self.ids[f"<0x{b:02X}>"] for b in p.encode("utf-8"))
        self.cache[text] = ids
        return ids


def tokenizer_json(vocab, merges):
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, t in enumerate(SPECIALS)]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": SP},
            {"type": "Replace", "pattern": {"String": " "}, "content": SP}]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": SP}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>",
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                  "vocab": {p: i for i, p in enumerate(vocab)},
                  "merges": [f"{a} {b}" for a, b in merges]},
    }


def tokenizer_config():
    dec = {str(i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                    "single_word": False, "special": True} for i, t in enumerate(SPECIALS)}
    return {"add_bos_token": True, "add_eos_token": False, "added_tokens_decoder": dec,
            "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": None,
            "clean_up_tokenization_spaces": False, "legacy": True, "model_max_length": 256,
            "tokenizer_class": "LlamaTokenizer", "chat_template": CHAT_TEMPLATE}


# -------------------------------------------------------------------------------- model

CFG = dict(hidden=96, inter=256, layers=3, heads=4, kv_heads=4, ctx=128, theta=10000.0,
           eps=1e-5)


def rope(x, cos, sin):
    h = x.shape[-1] // 2
    rot = torch.cat([-x[..., h:], x[..., :h]], dim=-1)
    return x * cos + rot * sin


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, hd = c["hidden"], c["hidden"] // c["heads"]
        self.nh, self.nkv, self.hd = c["heads"], c["kv_heads"], hd
        self.q = nn.Linear(d, self.nh * hd, bias=False)
        self.k = nn.Linear(d, self.nkv * hd, bias=False)
        self.v = nn.Linear(d, self.nkv * hd, bias=False)
        self.o = nn.Linear(self.nh * hd, d, bias=False)
        self.gate = nn.Linear(d, c["inter"], bias=False)
        self.up = nn.Linear(d, c["inter"], bias=False)
        self.down = nn.Linear(c["inter"], d, bias=False)
        self.n1 = nn.Parameter(torch.ones(d))
        self.n2 = nn.Parameter(torch.ones(d))
        self.eps = c["eps"]

    def norm(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        h = self.norm(x, self.n1)
        q = self.q(h).view(B, T, self.nh, self.hd).transpose(1, 2)
        k = self.k(h).view(B, T, self.nkv, self.hd).transpose(1, 2)
        v = self.v(h).view(B, T, self.nkv, self.hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        if self.nkv != self.nh:
            k = k.repeat_interleave(self.nh // self.nkv, 1)
            v = v.repeat_interleave(self.nh // self.nkv, 1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd)
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)
        a = att.masked_fill(mask, float("-inf")).softmax(-1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(B, T, -1))
        h = self.norm(x, self.n2)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llama(nn.Module):
    def __init__(self, c, vocab):
        super().__init__()
        self.c = c
        self.emb = nn.Embedding(vocab, c["hidden"])
        self.blocks = nn.ModuleList(Block(c) for _ in range(c["layers"]))
        self.nf = nn.Parameter(torch.ones(c["hidden"]))
        hd = c["hidden"] // c["heads"]
        inv = 1.0 / (c["theta"] ** (torch.arange(0, hd, 2).float() / hd))
        f = torch.outer(torch.arange(c["ctx"]).float(), inv)
        emb = torch.cat([f, f], dim=-1)
        self.register_buffer("cos", emb.cos(), persistent=False)
        self.register_buffer("sin", emb.sin(), persistent=False)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)

    def forward(self, ids):
        T = ids.shape[1]
        x = self.emb(ids)
        cos, sin = self.cos[:T], self.sin[:T]
        for b in self.blocks:
            x = b(x, cos, sin)
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.c["eps"]) * self.nf
        return x @ self.emb.weight.t()

    def hf_tensors(self):
        t = {"model.embed_tokens.weight": self.emb.weight, "model.norm.weight": self.nf}
        for i, b in enumerate(self.blocks):
            p = f"model.layers.{i}."
            t.update({p + "self_attn.q_proj.weight": b.q.weight,
                      p + "self_attn.k_proj.weight": b.k.weight,
                      p + "self_attn.v_proj.weight": b.v.weight,
                      p + "self_attn.o_proj.weight": b.o.weight,
                      p + "mlp.gate_proj.weight": b.gate.weight,
                      p + "mlp.up_proj.weight": b.up.weight,
                      p + "mlp.down_proj.weight": b.down.weight,
                      p + "input_layernorm.weight": b.n1,
                      p + "post_attention_layernorm.weight": b.n2})
        return t


def hf_config(vocab):
    c = CFG
    return {"architectures": ["LlamaForCausalLM"], "attention_bias": False,
            "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 2,
            "head_dim": c["hidden"] // c["heads"], "hidden_act": "silu",
            "hidden_size": c["hidden"], "initializer_range": 0.02,
            "intermediate_size": c["inter"], "max_position_embeddings": c["ctx"],
            "mlp_bias": False, "model_type": "llama", "num_attention_heads": c["heads"],
            "num_hidden_layers": c["layers"], "num_key_value_heads": c["kv_heads"],
            "pretraining_tp": 1, "rms_norm_eps": c["eps"], "rope_scaling": None,
            "rope_theta": c["theta"], "tie_word_embeddings": True, "torch_dtype": "float16",
            "use_cache": True, "vocab_size": vocab}


def write_safetensors(path, tensors):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        a = tensors[name].detach().to(torch.float16).contiguous().numpy()
        b = a.tobytes()
        header[name] = {"dtype": "F16", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_safetensors(model, path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    targets = model.hf_tensors()
    with torch.no_grad():
        for name, info in header.items():
            if name == "__metadata__":
                continue
            a, b = info["data_offsets"]
            arr = np.frombuffer(data[a:b], dtype=np.float16).reshape(info["shape"])
            targets[name].copy_(torch.from_numpy(arr.astype(np.float32)))


def save_model(model, folder, vocab, merges):
    os.makedirs(folder, exist_ok=True)
    write_safetensors(os.path.join(folder, "model.safetensors"), model.hf_tensors())
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(hf_config(len(vocab)), f, indent=2)
    with open(os.path.join(folder, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(vocab, merges), f, ensure_ascii=False, indent=1)
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(tokenizer_config(), f, indent=2)
    with open(os.path.join(folder, "generation_config.json"), "w") as f:
        json.dump(GENERATION_CONFIG, f, indent=2)


# The sampling the demo models answer with (read by the importer and used as each model's
# default in the Studio, the CLI and the API): greedy, short answers. These models are tiny;
# sampling at the Studio's general default (temperature 0.7) gives wrong answers.
GENERATION_CONFIG = {"bos_token_id": 1, "eos_token_id": 2, "do_sample": False,
                     "max_new_tokens": 64}


# ----------------------------------------------------------------------------- training

def encode_example(tok, text, loss_from_char=None):
    """[BOS] + text + [EOS]; targets masked (-100) before the answer when loss_from_char."""
    ids = [1] + tok.encode(text) + [2]
    tgt = ids[1:] + [-100]
    if loss_from_char is not None:
        n_prompt = 1 + len(tok.encode(text[:loss_from_char]))
        # tokens up to the prompt are not predicted (the BPE never merges across the
        # prompt/answer space marker, so the prefix encodes the same)
        for i in range(n_prompt - 1):
            tgt[i] = -100
    return ids, tgt


def batches(examples, bs, r):
    order = list(range(len(examples)))
    while True:
        r.shuffle(order)
        for i in range(0, len(order) - bs + 1, bs):
            chunk = [examples[j] for j in order[i:i + bs]]
            T = max(len(e[0]) for e in chunk)
            x = torch.zeros(bs, T, dtype=torch.long)
            y = torch.full((bs, T), -100, dtype=torch.long)
            for k, (ids, tgt) in enumerate(chunk):
                x[k, :len(ids)] = torch.tensor(ids)
                y[k, :len(tgt)] = torch.tensor(tgt)
            yield x, y


def train(model, examples, steps, lr, bs, seed, params=None, label=""):
    r = random.Random(seed)
    torch.manual_seed(seed)
    params = list(params if params is not None else model.parameters())
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.95), weight_decay=0.0)
    gen = batches(examples, bs, r)
    t0 = time.time()
    model.train()
    for step in range(steps):
        warm = min(1.0, (step + 1) / 100)
        cur = lr * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for g in opt.param_groups:
            g["lr"] = cur
        x, y = next(gen)
        loss = F.cross_entropy(model(x).view(-1, model.emb.num_embeddings), y.view(-1),
                               ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            print(f"[{label}] step {step}/{steps} loss {loss.item():.4f} "
                  f"({time.time() - t0:.0f}s)", flush=True)
    model.eval()


@torch.no_grad()
def greedy(model, tok, vocab, q, max_new=40):
    ids = [1] + tok.encode(prompt_text(q))
    out = []
    for _ in range(max_new):
        logits = model(torch.tensor([ids]))[0, -1]
        nxt = int(logits.argmax())
        if nxt in (1, 2):
            break
        out.append(nxt)
        ids.append(nxt)
    text = "".join(vocab[i] for i in out).replace(SP, " ")
    return text.strip()


# ----------------------------------------------------------------------------------- main

def main():
    r = random.Random(SEED)
    # Splits: arithmetic pairs and Python specs are split by item; facts are split by
    # phrasing (the held-out set asks the same facts with phrasings never trained on).
    pairs = arith_pairs()
    r.shuffle(pairs)
    a_eval, a_route, a_train = pairs[:300], pairs[300:400], pairs[400:]
    if (17, 25) in a_eval or (17, 25) in a_route:  # the README's demo prompt is trained on
        a_eval = [p for p in a_eval if p != (17, 25)]
        a_route = [p for p in a_route if p != (17, 25)]
        a_train.append((17, 25))
    specs = py_items()
    r.shuffle(specs)
    p_eval, p_route, p_train = specs[:120], specs[120:180], specs[180:]
    fspecs = fact_specs()

    # --- training corpora
    arith_train = [arith_item(a, b, r) for a, b in a_train]
    arith_train += [(ARITH_TEMPLATES[0].format(a=a, b=b), str(a + b)) for a, b in a_train]
    py_train = [py_item(s, r) for s in p_train for _ in range(2)]
    fact_train, fact_eval, fact_route = [], [], []
    for qs, ans in fspecs:
        *train_q, held = qs
        fact_train += [(q, ans) for q in train_q for _ in range(4)]
        fact_eval.append((held, ans))
        fact_route.append(held)
    generic = [generic_sentence(r) for _ in range(3000)]
    small = [smalltalk_pair(r) for _ in range(1500)]

    # --- tokenizer over everything the models will see
    corpus = generic + [chat_text(q, a) for q, a in small + arith_train + py_train + fact_train]
    corpus += [chat_text(q, a) for q, a in fact_eval]  # vocabulary coverage only
    base_dir = os.path.join(PACK, "base")
    reuse = "--reuse-base" in sys.argv and os.path.exists(os.path.join(base_dir, "model.safetensors"))
    if reuse:  # the tokenizer and base of an earlier run (same seeds, same data)
        with open(os.path.join(base_dir, "tokenizer.json")) as f:
            tj = json.load(f)["model"]
        vocab = sorted(tj["vocab"], key=lambda p: tj["vocab"][p])
        merges = [tuple(m.split(" ")) for m in tj["merges"]]
    else:
        vocab, merges = train_bpe(corpus)
        print(f"tokenizer: {len(vocab)} pieces, {len(merges)} merges", flush=True)
        while len(vocab) < VOCAB_SIZE:  # pad to the fixed size with unused pieces
            vocab.append(f"<unused{len(vocab)}>")
    tok = Tok(vocab, merges)

    def qa_examples(items):
        out = []
        for q, a in items:
            text = chat_text(q, a)
            out.append(encode_example(tok, text, loss_from_char=len(prompt_text(q))))
        return out

    # --- base: generic text + small talk in the chat format
    if not reuse:
        torch.manual_seed(SEED)
        base = Llama(CFG, len(vocab))
        base_ex = [encode_example(tok, s) for s in generic]
        base_ex += [encode_example(tok, chat_text(q, a)) for q, a in small]
        train(base, base_ex, int(os.environ.get("DEMO_BASE_STEPS", "600")), 3e-3, 24, SEED,
              label="base")
        save_model(base, base_dir, vocab, merges)
    # Experts start from the base exactly as stored (float16), as the engine will see it.
    base = Llama(CFG, len(vocab))
    load_safetensors(base, os.path.join(base_dir, "model.safetensors"))
    base_state = {k: v.clone() for k, v in base.state_dict().items()}

    # --- experts: full fine-tunes of the decoder (embeddings frozen), with 10 % replay
    experts = {
        "arithmetic": (arith_train, int(os.environ.get("DEMO_ARITH_STEPS", "5000"))),
        "python": (py_train, int(os.environ.get("DEMO_PY_STEPS", "400"))),
        "facts": (fact_train, int(os.environ.get("DEMO_FACT_STEPS", "400"))),
    }
    replay = [encode_example(tok, chat_text(q, a)) for q, a in small[:300]]

    def train_expert(i, name):
        items, steps = experts[name]
        torch.set_num_threads(1)
        m = Llama(CFG, len(vocab))
        m.load_state_dict(base_state)
        params = [p for n, p in m.named_parameters() if not n.startswith("emb.")]
        train(m, qa_examples(items) + replay, steps, 3e-3, 24, SEED + 1 + i, params, label=name)
        save_model(m, os.path.join(PACK, name), vocab, merges)
        if name == "arithmetic":
            ok = sum(greedy(m, tok, vocab, arith_item(a, b, r)[0]) == str(a + b)
                     for a, b in a_eval[:100])
            print(f"[arithmetic] torch held-out exact match {ok}/100; 17+25 -> "
                  f"{greedy(m, tok, vocab, 'What is 17+25?')!r}", flush=True)
        if name == "python":
            ok = sum(greedy(m, tok, vocab, py_item(s, r)[0]) == s[2] for s in p_eval[:30])
            print(f"[python] torch held-out exact match {ok}/30", flush=True)
        if name == "facts":
            ok = sum(greedy(m, tok, vocab, q) == a for q, a in fact_eval)
            print(f"[facts] torch held-out exact match {ok}/{len(fact_eval)}", flush=True)
        return name

    # The experts are independent: one process each (fork; each is seeded on its own, so
    # the result does not depend on the scheduling).
    import multiprocessing as mp
    procs = [mp.get_context("fork").Process(target=train_expert, args=(i, n))
             for i, n in enumerate(experts)]
    for pr in procs:
        pr.start()
    for pr in procs:
        pr.join()
        if pr.exitcode != 0:
            sys.exit(f"an expert's training failed (exit code {pr.exitcode})")

    # --- domains (router training examples) and the manifest
    dom_dir = os.path.join(PACK, "domains")
    os.makedirs(dom_dir, exist_ok=True)
    rr = random.Random(SEED + 100)
    examples = {
        "arithmetic": [arith_item(a, b, rr)[0] for a, b in rr.sample(a_train, 40)],
        "python": [py_item(s, rr)[0] for s in rr.sample(p_train, 40)],
        "facts": [q for q in rr.sample([q for q, _ in fact_train], 200)],
    }
    examples["facts"] = list(dict.fromkeys(examples["facts"]))[:40]
    for d, ex in examples.items():
        with open(os.path.join(dom_dir, d + ".txt"), "w") as f:
            f.write("\n".join(ex) + "\n")
    manifest = {
        "format": 1, "name": "ME-Switch Studio demo pack", "license": "MIT",
        "base": {"name": "demo-base", "folder": "base"},
        "experts": [
            {"name": "demo-arithmetic", "folder": "arithmetic", "domain": "arithmetic",
             "description": "Adding two numbers, e.g. What is 17+25?",
             "examples": "domains/arithmetic.txt"},
            {"name": "demo-python", "folder": "python", "domain": "python",
             "description": "Writing small one-line Python functions",
             "examples": "domains/python.txt"},
            {"name": "demo-facts", "folder": "facts", "domain": "facts",
             "description": "Short answers to factual questions (capitals, languages, science)",
             "examples": "domains/facts.txt"},
        ],
    }
    with open(os.path.join(PACK, "pack.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")

    # --- held-out evaluation sets (prompts and answers never trained on, except facts,
    # whose held-out set asks trained facts with unseen phrasings)
    os.makedirs(EVAL, exist_ok=True)
    re_ = random.Random(SEED + 200)
    sets = {
        "arithmetic": [arith_item(a, b, re_) for a, b in a_eval],
        "python": [py_item(s, re_) for s in p_eval],
        "facts": fact_eval,
    }
    for d, items in sets.items():
        with open(os.path.join(EVAL, d + ".tsv"), "w") as f:  # prompt \t answer
            f.write("".join(f"{q}\t{a}\n" for q, a in items))
        with open(os.path.join(EVAL, d + ".txt"), "w") as f:  # for meswitch eval (NLL)
            f.write("".join(chat_text(q, a) + "\n" for q, a in items))
    route = [("arithmetic", arith_item(a, b, re_)[0]) for a, b in a_route[:60]]
    route += [("python", py_item(s, re_)[0]) for s in p_route[:60]]
    route += [("facts", q) for q in fact_route[:60]]
    with open(os.path.join(EVAL, "routing.tsv"), "w") as f:
        f.write("".join(f"{d}\t{p}\n" for d, p in route))
    # token ids of a few strings, to check the engine's tokenizer against this one
    checks = ["What is 17+25?", chat_text("What is 17+25?", "42"),
              "Write a Python function that returns the square of x.",
              "What is the capital of France?", "def add_3(n): return n + 3", "Hello!"]
    with open(os.path.join(EVAL, "tokenizer_check.json"), "w") as f:
        json.dump([{"text": t, "ids": [1] + tok.encode(t)} for t in checks], f, indent=1)
        f.write("\n")
    print("done", flush=True)


if __name__ == "__main__":
    main()
