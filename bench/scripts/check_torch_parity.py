#!/usr/bin/env python3
"""Checks that torch_step.py's plain PyTorch modules are HuggingFace ELECTRA: loads the HF fixtures'
weights (shared/fixtures/hf-electra/{tiny,small2l}, produced by transformers itself) into them, runs the
fixture batch, and compares both networks' logits, the three losses and, for tiny, every gradient of the
total loss. Exits 1 on any mismatch, printing the tensor, the worst index, both values and the difference.

    /usr/bin/python3 bench/scripts/check_torch_parity.py [--shared ../shared]
"""
import argparse
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torch_step as ts  # noqa: E402

ATOL, RTOL = 1e-5, 1e-4


def read_safetensors(path):
    """The published format: u64 header length, JSON header, raw little-endian data."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    kinds = {"F32": torch.float32, "I64": torch.int64, "F64": torch.float64, "I32": torch.int32}
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[a:b]), dtype=kinds[e["dtype"]]) if b > a else torch.zeros(0, dtype=kinds[e["dtype"]])
        out[name] = t.reshape(e["shape"])
    return out


def hf_to_plain(key):
    """HF state-dict key of one network to the plain module's key, or None for buffers."""
    if key.endswith("position_ids"):
        return None
    k = key.replace("electra.embeddings_project.", "body.project.").replace("electra.embeddings.", "body.embeddings.")
    k = k.replace("electra.encoder.layer.", "body.layers.")
    for hf, ours in ((".attention.self.query.", ".query."), (".attention.self.key.", ".key."),
                     (".attention.self.value.", ".value."), (".attention.output.dense.", ".attn_dense."),
                     (".attention.output.LayerNorm.", ".attn_norm."), (".intermediate.dense.", ".intermediate."),
                     (".output.dense.", ".output."), (".output.LayerNorm.", ".out_norm.")):
        k = k.replace(hf, ours)
    k = k.replace("generator_predictions.dense.", "dense.").replace("generator_predictions.LayerNorm.", "norm.")
    k = k.replace("generator_lm_head.bias", "bias").replace("discriminator_predictions.", "")
    return k


def build(folder):
    gcfg = json.load(open(os.path.join(folder, "generator", "config.json")))
    dcfg = json.load(open(os.path.join(folder, "discriminator", "config.json")))
    dims = lambda c: (c["embedding_size"], c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"],  # noqa: E731
                      c["intermediate_size"])
    shared = ts.Embeddings(dcfg["embedding_size"], dcfg["vocab_size"], dcfg["max_position_embeddings"])
    disc = ts.Discriminator(*dims(dcfg), shared)
    gen = ts.Generator(*dims(gcfg), shared)
    for net, sub in ((disc, "discriminator"), (gen, "generator")):
        state = net.state_dict()
        loaded = set()
        for key, value in read_safetensors(os.path.join(folder, sub, "model.safetensors")).items():
            k = hf_to_plain(key)
            if k is None:
                continue
            if k not in state or state[k].shape != value.shape:
                raise SystemExit(f"{folder}/{sub}: {key} -> {k} has no matching parameter (shape {list(value.shape)})")
            state[k].copy_(value)
            loaded.add(k)
        missing = [k for k in state if k not in loaded and not k.startswith("body.embeddings.")]
        if missing:
            raise SystemExit(f"{folder}/{sub}: parameters the file did not set: {missing}")
    return gen, disc


def compare(failures, name, got, want):
    got, want = got.detach().double().reshape(-1), want.double().reshape(-1)
    if got.shape != want.shape:
        failures.append(f"{name}: {got.numel()} values, expected {want.numel()}")
        return
    excess = (got - want).abs() - (ATOL + RTOL * want.abs())
    i = int(excess.argmax())
    if excess[i] > 0:
        failures.append(f"{name}[{i}]: got {got[i]:.8g}, expected {want[i]:.8g}, difference {abs(got[i] - want[i]):.3g}")


def check(folder, every_gradient):
    gen, disc = build(folder)
    gen.eval(), disc.eval()
    x = read_safetensors(os.path.join(folder, "expected.safetensors"))
    ids, attn, types = x["input_ids"], x["attention_mask"], x["token_type_ids"]
    failures = []
    all_logits = gen.logits(x["generator_input_ids"], types, attn, None)
    compare(failures, "generator_logits", all_logits, x["generator_logits"])
    labels = x["generator_labels"].reshape(-1)
    gen_loss = F.cross_entropy(all_logits, labels, ignore_index=-100)
    d_logits = disc.logits(x["discriminator_input_ids"], types, attn)
    compare(failures, "discriminator_logits", d_logits, x["discriminator_logits"])
    active = attn.reshape(-1) == 1
    disc_loss = F.binary_cross_entropy_with_logits(d_logits.reshape(-1)[active],
                                                   x["discriminator_labels"].reshape(-1)[active].float())
    total = gen_loss + ts.DISC_WEIGHT * disc_loss
    for name, v in (("generator_loss", gen_loss), ("discriminator_loss", disc_loss), ("total_loss", total)):
        compare(failures, name, v, x[name])
    total.backward()
    grads = 0
    for net, sub in ((gen, "generator"), (disc, "discriminator")):
        named = dict(net.named_parameters())
        for key in x:
            prefix = f"grad.total.{sub}."
            if key.startswith(prefix):
                k = hf_to_plain(key[len(prefix):])
                k = "body.embeddings.word_embeddings.weight" if k == "generator_lm_head.weight" else k
                compare(failures, key, named[k].grad, x[key])
                grads += 1
    if every_gradient and grads < len(list(gen.parameters())):
        failures.append(f"only {grads} gradients compared")
    print(f"{os.path.basename(folder)}: logits, losses and {grads} gradients compared; "
          + ("OK" if not failures else f"{len(failures)} MISMATCHES"))
    for f in failures:
        print("  " + f)
    return not failures


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shared", default=os.environ.get("ELECTRA_SHARED", os.path.join(os.getcwd(), "..", "shared")))
    a = p.parse_args()
    root = os.path.join(a.shared, "fixtures", "hf-electra")
    if not os.path.isdir(root):
        raise SystemExit(f"no HF fixtures at {root} (give --shared DIR)")
    torch.set_num_threads(1)
    ok = check(os.path.join(root, "tiny"), True) & check(os.path.join(root, "small2l"), False)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
