#!/usr/bin/env python3
"""The PyTorch reference of one ELECTRA (or BERT masked-LM) pre-training step, timed.

It runs the same step as io.electra.bench.step.StepBenchmark -- same presets, batch, sequence length,
masking, Gumbel sampling, loss weights, AdamW with clipping, thread count -- and writes the same JSON
fields, so bench/scripts/run-*-bench.sh can put the two side by side.

Implementations (--impl):
  plain  PyTorch modules written here with HuggingFace ELECTRA's exact shapes (post-LN BERT layers,
         embeddings shared by generator and discriminator, generator head tied to the word embeddings).
         Needs only torch: this is the CPU reference.
  hf     transformers' ElectraForMaskedLM + ElectraForPreTraining with the embeddings shared (needs
         transformers; the GPU reference).
Generator head (--head): "masked" computes logits only at the prediction slots (official ELECTRA and
ours); "all" at every position (what ElectraForMaskedLM does when called as a whole).
Modes: --mode eager|compile (torch.compile of the loss function), --precision fp32|bf16 (bf16 = autocast).

Synthetic rows: [CLS] a.. [SEP] b.. [SEP], full length, random word-piece ids, like the Java side.
"""
import argparse
import json
import math
import os
import platform
import sys
import time

PRESETS = {  # name: (embedding, hidden, layers, heads, ffn, generator fraction, learning rate)
    "tiny": (64, 64, 2, 2, 256, 0.5, 1e-3),
    "small2l": (128, 256, 2, 4, 1024, 0.25, 5e-4),
    "small": (128, 256, 12, 4, 1024, 0.25, 5e-4),
    "base": (768, 768, 12, 12, 3072, 1.0 / 3, 2e-4),
    "large": (1024, 1024, 24, 16, 4096, 0.25, 2e-4),
}
VOCAB, MAX_POS, TYPES, EPS, DROPOUT, INIT_RANGE = 30522, 512, 2, 1e-12, 0.1, 0.02
PAD, CLS, SEP, MASK, FIRST_WORD_ID = 0, 101, 102, 103, 999
MASK_PROB, DISC_WEIGHT = 0.15, 50.0


def choose_openblas_core():
    """OpenBLAS 0.3.21 does not know some virtualised Xeons and falls back to its Prescott (SSE3)
    kernels, about 6x slower. Pick the kernels the CPU flags allow, before torch loads OpenBLAS."""
    if "OPENBLAS_CORETYPE" in os.environ:
        return os.environ["OPENBLAS_CORETYPE"]
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((l.split(":", 1)[1].split() for l in f if l.startswith("flags")), [])
    except OSError:
        return None
    core = "SkylakeX" if "avx512f" in flags else "Haswell" if "avx2" in flags else None
    if core:
        os.environ["OPENBLAS_CORETYPE"] = core
    return core


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--presets", default="tiny,small2l,small,base")
    p.add_argument("--objectives", default="electra,mlm")
    p.add_argument("--batch", default="", help="one batch size or a comma list (default per preset, as StepBenchmark)")
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--round", type=int, default=0)
    p.add_argument("--impl", default="plain", choices=["plain", "hf"])
    p.add_argument("--head", default="masked", choices=["masked", "all"])
    p.add_argument("--mode", default="eager", choices=["eager", "compile"])
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    p.add_argument("--out", default="")
    return p.parse_args()


def default_batch(preset, device):
    if device == "cuda":
        return 128
    return {"tiny": 16, "small2l": 8, "small": 8}.get(preset, 2)


ARGS = parse_args() if __name__ == "__main__" else None
CORE = choose_openblas_core() if ARGS is not None and ARGS.device == "cpu" else None
import torch  # noqa: E402  (after OPENBLAS_CORETYPE is set)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


# ----------------------------------------------------------------------------------------- model

class Embeddings(nn.Module):
    def __init__(self, e, vocab=VOCAB, max_pos=MAX_POS):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, e, padding_idx=PAD)
        self.position_embeddings = nn.Embedding(max_pos, e)
        self.token_type_embeddings = nn.Embedding(TYPES, e)
        self.LayerNorm = nn.LayerNorm(e, eps=EPS)
        self.dropout = nn.Dropout(DROPOUT)

    def forward(self, ids, types):
        pos = torch.arange(ids.shape[1], device=ids.device)[None, :]
        x = self.word_embeddings(ids) + self.position_embeddings(pos) + self.token_type_embeddings(types)
        return self.dropout(self.LayerNorm(x))


class Layer(nn.Module):
    """Post-LN BERT layer, HF ElectraLayer's shapes: attention, dense, LN; FFN with exact GELU, LN."""

    def __init__(self, c, heads, ffn):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(c, c), nn.Linear(c, c), nn.Linear(c, c)
        self.attn_dense, self.attn_norm = nn.Linear(c, c), nn.LayerNorm(c, eps=EPS)
        self.intermediate, self.output = nn.Linear(c, ffn), nn.Linear(ffn, c)
        self.out_norm = nn.LayerNorm(c, eps=EPS)
        self.dropout = nn.Dropout(DROPOUT)

    def forward(self, h, mask_bias):
        b, t, c = h.shape
        d = c // self.heads
        split = lambda x: x.view(b, t, self.heads, d).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.query(h)), split(self.key(h)), split(self.value(h))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + mask_bias
        p = self.dropout(torch.softmax(scores, dim=-1))
        context = (p @ v).transpose(1, 2).reshape(b, t, c)
        a = self.attn_norm(self.dropout(self.attn_dense(context)) + h)
        inner = F.gelu(self.intermediate(a))
        return self.out_norm(self.dropout(self.output(inner)) + a)


class Body(nn.Module):
    def __init__(self, e, c, layers, heads, ffn, embeddings):
        super().__init__()
        self.embeddings = embeddings
        self.project = nn.Linear(e, c) if e != c else None
        self.layers = nn.ModuleList(Layer(c, heads, ffn) for _ in range(layers))

    def forward(self, ids, types, attn):
        h = self.embeddings(ids, types)
        if self.project is not None:
            h = self.project(h)
        mask_bias = (1.0 - attn[:, None, None, :].to(h.dtype)) * torch.finfo(h.dtype).min
        for layer in self.layers:
            h = layer(h, mask_bias)
        return h


class Generator(nn.Module):
    """ElectraForMaskedLM: body, LN(gelu(dense(h))) to the embedding size, logits tied to the word embeddings."""

    def __init__(self, e, c, layers, heads, ffn, embeddings):
        super().__init__()
        self.body = Body(e, c, layers, heads, ffn, embeddings)
        self.dense, self.norm = nn.Linear(c, e), nn.LayerNorm(e, eps=EPS)
        self.bias = nn.Parameter(torch.zeros(embeddings.word_embeddings.num_embeddings))

    def logits(self, ids, types, attn, flat_rows):
        h = self.body(ids, types, attn)
        h = h.reshape(-1, h.shape[-1])
        if flat_rows is not None:
            h = h[flat_rows]
        p = self.norm(F.gelu(self.dense(h)))
        return F.linear(p, self.body.embeddings.word_embeddings.weight, self.bias)


class Discriminator(nn.Module):
    """ElectraForPreTraining: body, dense_prediction(gelu(dense(h))), one logit per token."""

    def __init__(self, e, c, layers, heads, ffn, embeddings):
        super().__init__()
        self.body = Body(e, c, layers, heads, ffn, embeddings)
        self.dense, self.dense_prediction = nn.Linear(c, c), nn.Linear(c, 1)

    def logits(self, ids, types, attn):
        return self.dense_prediction(F.gelu(self.dense(self.body(ids, types, attn)))).squeeze(-1)


def shapes(preset):
    e, c, layers, heads, ffn, frac, lr = PRESETS[preset]
    g = (e, round(c * frac), layers, max(1, round(heads * frac)), round(ffn * frac))
    return (e, c, layers, heads, ffn), g, lr


def init_weights(model):
    """HF's _init_weights: N(0, 0.02) for linear and embedding weights, zero biases, LayerNorm 1/0."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Embedding)):
            m.weight.data.normal_(0.0, INIT_RANGE)
            if isinstance(m, nn.Linear) and m.bias is not None:
                m.bias.data.zero_()
        elif isinstance(m, nn.LayerNorm):
            m.weight.data.fill_(1.0)
            m.bias.data.zero_()


# ----------------------------------------------------------------------------------------- the step

def synthetic_rows(batch, seq, device, gen):
    ids = torch.randint(FIRST_WORD_ID, VOCAB, (batch, seq), generator=gen)
    ids[:, 0], ids[:, seq // 2], ids[:, seq - 1] = CLS, SEP, SEP
    types = (torch.arange(seq) > seq // 2).long().expand(batch, seq).contiguous()
    return ids.to(device), types.to(device), torch.ones(batch, seq, dtype=torch.long, device=device)


def mask_batch(ids, attn, n_slots, style):
    """Official ELECTRA masking (pretrain_helpers.mask): per row, round(real * 0.15) live slots (at least 1,
    at most N) drawn with replacement among non-special tokens; ELECTRA masks a drawn position with
    probability 0.85 and keeps it otherwise; BERT: 80% [MASK], 10% random token, 10% kept."""
    b, t = ids.shape
    special = (ids == CLS) | (ids == SEP) | (ids == MASK) | (ids == PAD)
    candidates = (attn.bool() & ~special).float()
    live = (attn.sum(1).float() * MASK_PROB).round().clamp(1, n_slots).long()
    pos = torch.multinomial(candidates, n_slots, replacement=True)                      # (B, N)
    slot_live = torch.arange(n_slots, device=ids.device)[None, :] < live[:, None]
    pos = torch.where(slot_live, pos, torch.zeros_like(pos))
    targets = torch.where(slot_live, ids.gather(1, pos), torch.full_like(pos, -100))
    r = torch.rand(b, n_slots, device=ids.device)
    to_mask = torch.zeros_like(ids).scatter_add_(1, pos, (slot_live & (r < (0.85 if style == "electra" else 0.8))).long())
    masked = torch.where(to_mask > 0, torch.full_like(ids, MASK), ids)
    if style == "bert":
        to_random = torch.zeros_like(ids).scatter_add_(1, pos, (slot_live & (r >= 0.8) & (r < 0.9)).long())
        masked = torch.where((to_random > 0) & (to_mask == 0), torch.randint_like(ids, VOCAB), masked)
    flat = (pos + torch.arange(b, device=ids.device)[:, None] * t).reshape(-1)
    return masked, pos, slot_live, targets.reshape(-1), flat


def gumbel_sample(logits):
    u = torch.rand_like(logits, dtype=torch.float32)
    return torch.argmax(logits.float() - torch.log(-torch.log(u + 1e-9) + 1e-9), dim=-1)


class Step:
    """Builds the model(s) and one loss function for (impl, objective, head)."""

    def __init__(self, preset, objective, batch, seq, device, impl, head):
        d, g, self.lr = shapes(preset)
        self.objective, self.head, self.impl = objective, head, impl
        self.n_slots = max(1, int((MASK_PROB + 0.005) * seq))
        if impl == "plain":
            if objective == "electra":
                shared = Embeddings(d[0])
                self.disc = Discriminator(*d, shared)
                self.gen = Generator(*g, shared)
                self.model = nn.ModuleDict({"generator": self.gen, "discriminator": self.disc})
            else:
                self.gen = Generator(*d, Embeddings(d[0]))
                self.model = self.gen
            init_weights(self.model)
        else:
            from transformers import ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining
            cfg = lambda s: ElectraConfig(vocab_size=VOCAB, embedding_size=s[0], hidden_size=s[1],  # noqa: E731
                                          num_hidden_layers=s[2], num_attention_heads=s[3], intermediate_size=s[4],
                                          max_position_embeddings=MAX_POS)
            if objective == "electra":
                self.disc = ElectraForPreTraining(cfg(d))
                self.gen = ElectraForMaskedLM(cfg(g))
                self.gen.electra.embeddings = self.disc.electra.embeddings
                self.gen.generator_lm_head.weight = self.disc.electra.embeddings.word_embeddings.weight
                self.model = nn.ModuleDict({"generator": self.gen, "discriminator": self.disc})
            else:
                self.gen = ElectraForMaskedLM(cfg(d))
                self.model = self.gen
        self.model.to(device)
        self.model.train()

    def gen_logits(self, masked, types, attn, flat):
        """Generator logits at the slots (K, V), and the generator loss, per --head."""
        if self.impl == "plain":
            return self.gen.logits(masked, types, attn, flat if self.head == "masked" else None)
        if self.head == "masked":
            h = self.gen.electra(input_ids=masked, attention_mask=attn, token_type_ids=types).last_hidden_state
            rows = h.reshape(-1, h.shape[-1])[flat]
            return self.gen.generator_lm_head(self.gen.generator_predictions(rows))
        logits = self.gen(input_ids=masked, attention_mask=attn, token_type_ids=types).logits
        return logits.reshape(-1, logits.shape[-1])

    def loss(self, ids, types, attn, masked, pos, slot_live, targets, flat):
        logits = self.gen_logits(masked, types, attn, flat)
        if self.head == "masked":
            gen_loss = F.cross_entropy(logits.float(), targets, ignore_index=-100)
            slot_logits = logits
        else:  # HF's way: labels at every position, -100 where nothing was masked
            labels = torch.full((ids.numel(),), -100, dtype=torch.long, device=ids.device)
            labels[flat] = targets
            gen_loss = F.cross_entropy(logits.float(), labels, ignore_index=-100)
            slot_logits = logits[flat]
        if self.objective == "mlm":
            return gen_loss
        with torch.no_grad():
            sampled = gumbel_sample(slot_logits.detach()).view(pos.shape)
            sampled = torch.where(slot_live, sampled, ids.gather(1, pos))
            disc_ids = ids.scatter(1, pos, sampled)
            labels = (disc_ids != ids).float()
        if self.impl == "plain":
            d_logits = self.disc.logits(disc_ids, types, attn)
        else:
            d_logits = self.disc(input_ids=disc_ids, attention_mask=attn, token_type_ids=types).logits
        active = attn.reshape(-1) == 1
        disc_loss = F.binary_cross_entropy_with_logits(d_logits.reshape(-1)[active].float(), labels.reshape(-1)[active])
        return gen_loss + DISC_WEIGHT * disc_loss


def optimizer(model, lr):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if name.endswith("bias") or "norm" in name.lower() else decay).append(p)
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.999), eps=1e-6)


# ----------------------------------------------------------------------------------------- timing

def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return -1


def matmul_gflops(device, n=1024, reps=10):
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    for _ in range(3):
        a @ b
    sync(device)
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(device)
    return 2 * n ** 3 * reps / (time.perf_counter() - t) / 1e9


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def median(v):
    s = sorted(v)
    return s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2


def measure(preset, objective, batch, args):
    torch.manual_seed(args.seed)
    reset_peak_rss()
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    step = Step(preset, objective, batch, args.seq, args.device, args.impl, args.head)
    params = list(step.model.parameters())
    opt = optimizer(step.model, step.lr)
    gen = torch.Generator().manual_seed(args.seed)
    ids, types, attn = synthetic_rows(batch, args.seq, args.device, gen)
    loss_fn = torch.compile(step.loss) if args.mode == "compile" else step.loss
    autocast = torch.autocast(device_type=args.device, dtype=torch.bfloat16, enabled=args.precision == "bf16")

    def one_step():
        masked, pos, slot_live, targets, flat = mask_batch(ids, attn, step.n_slots,
                                                           "electra" if objective == "electra" else "bert")
        with autocast:
            loss = loss_fn(ids, types, attn, masked, pos, slot_live, targets, flat)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        value = loss.item()  # waits for the device
        if not math.isfinite(value):
            raise RuntimeError(f"{objective} loss is {value}")
        return value

    first = last = float("nan")
    for i in range(args.warmup):
        v = one_step()
        first = v if i == 0 else first
    ms, cpu_ms = [], []
    for i in range(args.steps):
        c0, t0 = time.process_time(), time.perf_counter()
        last = one_step()
        ms.append((time.perf_counter() - t0) * 1e3)
        cpu_ms.append((time.process_time() - c0) * 1e3)
        first = last if args.warmup == 0 and i == 0 else first
    med = median(ms)
    return {
        "tool": "pytorch", "variant": f"{'torch' if args.impl == 'plain' else 'hf'}-{args.mode}-{args.precision}-{args.head}",
        "device": args.device, "preset": preset, "objective": objective, "batch": batch, "seq": args.seq,
        "threads": args.threads, "round": args.round, "generatorHead": args.head, "warmupSteps": args.warmup,
        "stepMs": ms, "medianMs": med, "medianCpuMs": median(cpu_ms), "loadAverage": os.getloadavg()[0], "sequencesPerSecond": batch * 1e3 / med,
        "tokensPerSecond": batch * args.seq * 1e3 / med,
        "parameterCount": sum(p.numel() for p in params), "peakRssBytes": peak_rss(),
        "backendPeakBytes": torch.cuda.max_memory_allocated() if args.device == "cuda" else None,
        "firstLoss": first, "lastLoss": last, "command": " ".join([sys.executable] + sys.argv),
    }


def environment(args, gflops):
    env = {"torch": torch.__version__, "python": platform.python_version(), "torchThreads": torch.get_num_threads(),
           "matmulGflops1024": round(gflops, 1), "platform": platform.platform()}
    if args.device == "cpu":
        env["openblasCoreType"] = CORE or "default"
        env["blasInfo"] = [l.strip() for l in torch.__config__.show().splitlines() if "BLAS_INFO" in l][:1]
    else:
        env["gpu"] = torch.cuda.get_device_name()
        env["torchCuda"] = torch.version.cuda
    try:
        import transformers
        env["transformers"] = transformers.__version__
    except ImportError:
        env["transformers"] = None
    return env


def main():
    args = ARGS
    torch.set_num_threads(args.threads)
    if args.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    gflops = matmul_gflops(args.device)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, fp32 matmul 1024^3: {gflops:.1f} GFLOP/s"
          + (f" (OpenBLAS core {CORE})" if CORE else ""), flush=True)
    results = []
    for preset in args.presets.split(","):
        batches = [int(b) for b in args.batch.split(",")] if args.batch else [default_batch(preset, args.device)]
        for batch in batches:
            for objective in args.objectives.split(","):
                r = measure(preset, objective, batch, args)
                results.append(r)
                print(f"{preset:8s} {objective:7s} b{batch:<3d} t{args.seq:<4d} {r['medianMs']:9.1f} ms/step "
                      f"{r['sequencesPerSecond']:9.2f} seq/s {r['tokensPerSecond']:10.0f} tok/s  "
                      f"loss {r['firstLoss']:.3f} -> {r['lastLoss']:.3f}  [{r['variant']}]", flush=True)
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"environment": environment(args, gflops), "results": results}, f, indent=2)
        os.replace(tmp, args.out)
        print("wrote", args.out)


if __name__ == "__main__":
    main()
