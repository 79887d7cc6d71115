#!/usr/bin/env python3
"""Rewrites the kernel sources so g++ can compile them for the emulator (build.sh runs this).

Only what C++ cannot express is rewritten; everything else compiles as written, with
cuda_emu.h defining CUDA's qualifiers, built-ins and intrinsics:
  asm[ volatile]("ptx" : outs : ins)  ->  emu::inline_ptx("ptx", {emu::out(o).., emu::in(i)..})
                                          ("+" outputs become emu::inout: read, then written)
  __shared__ [__align__(N)] T a[..], b[..];  ->  one EMU_SHARED(T, a, [..], N); per name
  extern __shared__ [__align__(N)] T a[];    ->  EMU_DYNAMIC_SHARED(T, a);
and every .entry of the family's committed PTX is registered under its name, so a kernel the
PTX has and the source lacks (or the reverse) fails the build instead of a test. A family built for
Hopper only, <family>.sm_90a.cu, has its PTX in <family>.sm_90a.ptx and translates the same way.

usage: translate.py CUDA_DIR PTX_DIR OUT_DIR
       translate.py --kernel SOURCE.cu OUT.cpp   (a test kernel with no committed PTX: every
                                                  __global__ function of it is registered)
"""
import os
import re
import sys


def skip_string(text, i):
    """Index just past the string or char literal starting at text[i]."""
    quote = text[i]
    i += 1
    while text[i] != quote:
        i += 2 if text[i] == "\\" else 1
    return i + 1


def split_top(text, sep):
    """Splits at sep outside parentheses, brackets, braces and literals."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        if c in "\"'":
            i = skip_string(text, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def matching_paren(text, open_index):
    depth, i = 0, open_index
    while True:
        c = text[i]
        if c in "\"'":
            i = skip_string(text, i)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1


def rewrite_asm(text, where):
    out, pos = [], 0
    for m in re.finditer(r"\basm\s*(?:volatile\s*)?\(", text):
        if m.start() < pos:
            continue
        close = matching_paren(text, m.end() - 1)
        body = text[m.end():close]
        sections = split_top(body, ":")
        template = " ".join(re.findall(r'"((?:[^"\\]|\\.)*)"', sections[0]))
        operands = []
        for kind, section in (("out", sections[1] if len(sections) > 1 else ""),
                              ("in", sections[2] if len(sections) > 2 else "")):
            for operand in split_top(section, ","):
                operand = operand.strip()
                if not operand:
                    continue
                om = re.fullmatch(r'"([^"]*)"\s*\((.*)\)', operand, re.S)
                if not om:
                    sys.exit(f"{where}: cannot read asm operand {operand!r}")
                role = "inout" if kind == "out" and om.group(1).startswith("+") else kind
                operands.append(f"emu::{role}({om.group(2).strip()})")
        out.append(text[pos:m.start()])
        out.append(f'emu::inline_ptx("{template}", {{{", ".join(operands)}}})')
        pos = close + 1
    out.append(text[pos:])
    return "".join(out)


SHARED = re.compile(r"(extern\s+)?__shared__\s+(?:__align__\((\d+)\)\s+)?([^;]*);")


def rewrite_shared(text, where):
    def one(m):
        extern, align, decl = m.group(1), m.group(2) or "16", m.group(3)
        declarators = [d.strip() for d in split_top(decl, ",")]
        first = re.fullmatch(r"(.*?)\b([A-Za-z_]\w*)\s*((?:\[[^\]]*\]\s*)*)", declarators[0], re.S)
        if not first:
            sys.exit(f"{where}: cannot read shared declaration {m.group(0)!r}")
        type_, names = first.group(1).strip(), [(first.group(2), first.group(3).strip())]
        for d in declarators[1:]:
            dm = re.fullmatch(r"([A-Za-z_]\w*)\s*((?:\[[^\]]*\]\s*)*)", d, re.S)
            if not dm:
                sys.exit(f"{where}: cannot read shared declarator {d!r}")
            names.append((dm.group(1), dm.group(2).strip()))
        if extern:
            if len(names) != 1 or names[0][1] != "[]":
                sys.exit(f"{where}: dynamic shared memory must be one unsized array: {m.group(0)!r}")
            return f"EMU_DYNAMIC_SHARED({type_}, {names[0][0]});"
        return " ".join(f"EMU_SHARED({type_}, {n}, {dims}, {align});" for n, dims in names)

    return SHARED.sub(one, text)


def translate_test_kernel(source, out):
    with open(source) as f:
        text = f.read()
    entries = re.findall(r"__global__\s+(?:__launch_bounds__\([^)]*\)\s+)?void\s+([A-Za-z_]\w*)\s*\(", text)
    if not entries:
        sys.exit(f"{source} has no __global__ function")
    text = rewrite_shared(rewrite_asm(text, source), source)
    with open(out, "w") as f:
        f.write('#include "cuda_emu.h"\n#line 1 "' + source + '"\n' + text + "\n// every __global__ of the file\n" +
                "".join(f"EMU_REGISTER({e})\n" for e in entries))


def main():
    if sys.argv[1] == "--kernel":
        translate_test_kernel(sys.argv[2], sys.argv[3])
        return
    cuda_dir, ptx_dir, out_dir = sys.argv[1:4]
    os.makedirs(out_dir, exist_ok=True)
    for name in sorted(os.listdir(cuda_dir)):
        if not name.endswith((".cu", ".cuh")):
            continue
        source = os.path.join(cuda_dir, name)
        with open(source) as f:
            text = f.read()
        text = rewrite_shared(rewrite_asm(text, source), source)
        if name.endswith(".cu"):
            family = name[:-3]  # gemm_tc, or gemm_wgmma.sm_90a for a Hopper-only family
            ptx = os.path.join(ptx_dir, family + ".ptx")
            if not os.path.exists(ptx):
                sys.exit(f"{source}: no committed PTX {ptx} (run kernels/scripts/build-ptx.sh)")
            with open(ptx) as f:
                entries = re.findall(r"\.entry\s+([A-Za-z_]\w*)\s*\(", f.read())
            if not entries:
                sys.exit(f"{family}.ptx has no .entry")
            text = ('#include "cuda_emu.h"\n#line 1 "' + source + '"\n' + text +
                    "\n// every .entry of " + family + ".ptx\n" +
                    "".join(f"EMU_REGISTER({e})\n" for e in entries))
            name = family + ".cpp"
        else:
            text = '#line 1 "' + source + '"\n' + text
        with open(os.path.join(out_dir, name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
