#!/usr/bin/env bash
# gpu-bundle/run-all.sh (make-gpu-bundle.sh copies this file there): every piece of GPU work in one
# call that fits a 10-minute command, for a machine with an NVIDIA driver, python3 with a CUDA torch
# and transformers, and no JDK or network. Phases, in this order:
#   stamp      nvidia-smi, driver, CUDA, torch and transformers versions, commit, where libcublas.so.12 is
#   tests      every gpu-tagged test against the CPU backend, then the ledger (verified.json) and JUnit XML;
#              with -Delectra.cuda.checkEachLaunch=true: each launch synchronizes, so a kernel that faults is
#              named (grid, block, shared bytes) before it poisons the context for the tests after it
#   bandwidth  KernelBandwidthBench: memory-bound kernels against a device-to-device copy
#   launch     LaunchOverheadBench (JMH): launches per second through the Backend path, allocation per launch
#   gemm       GemmBench --sweep, beside torch.matmul (gemm_torch.py) and cuBLAS through JCublas where it loads
#   attention  AttentionBench, beside torch SDPA (attention_torch.py)
#   step       (= step-ours-electra step-ours-mlm step-ours-eager step-hf-eager step-hf-compile-electra
#              step-hf-compile-mlm)
#              training step at the Small preset, ELECTRA and BERT-MLM: ours on CUDA (StepBenchmark: bf16,
#              the step replayed as one CUDA graph; step-ours-eager: the same with eager launches), HF
#              transformers eager + bf16 autocast and torch.compile (torch_step.py); ms/step and ELECTRA/BERT
# Each phase has a time limit, capped by what is left of the whole run's budget; a phase that fails or
# times out is noted and the next one runs. OUT gets at most six files: summary.txt, environment.txt,
# verified.json, gpu-tests.log, bench.log and results.tar.gz (every raw JSON, JUnit XML and log).
#
# Usage: ./run-all.sh OUT_DIR [PHASE ...]        (no phase: all of them; the summary's last line names
#        the phases the budget left out, to run in a second call)
#   RUN_ALL_SECONDS  budget of the whole run, packing included (default 540)
#   PYTHON           the python with torch (default python3)
#   STEP_ARGS        extra StepBenchmark flags for ours (e.g. "--precision fp32"; default bf16 with --graph on)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
chmod +x jre/bin/* jre/lib/jspawnhelper run-gpu-tests.sh 2>/dev/null  # in case the copy dropped the modes
if [[ $# -lt 1 ]]; then
    echo "usage: ./run-all.sh OUT_DIR [stamp tests bandwidth launch gemm attention step]" >&2
    exit 64
fi
mkdir -p "$1"
out=$(cd "$1" && pwd)
shift
phases=("$@")
[[ ${#phases[@]} -gt 0 ]] || phases=(stamp tests bandwidth launch gemm attention step)
budget=${RUN_ALL_SECONDS:-540}
reserve=25  # seconds kept for packing the results
export PYTHON=${PYTHON:-python3}
export STEP_ARGS=${STEP_ARGS:-}
export CUDA_CACHE_MAXSIZE=4294967296  # keep every PTX JIT result: later JVMs load the modules from the cache
stamp=$(date -u +%Y%m%dT%H%M%SZ)
export work=$here/results/$stamp
mkdir -p "$work/logs" "$work/bench" "$work/step" "$work/junit"
summary=$work/summary.txt
export JAVA="$here/jre/bin/java"
export JAVA_FLAGS="--add-modules jdk.incubator.vector -Xmx16g -Delectra.commit=$(cat COMMIT)"
export CP=$(ls "$here"/lib/*.jar | grep -v console-standalone | tr '\n' ':')
echo "run-all: commit $(cat COMMIT), phases ${phases[*]}, budget ${budget}s, raw results in $work" | tee "$summary"

# JCublas 12.6 needs libcublas.so.12: a CUDA 12 torch wheel ships one (nvidia-cublas-cu12), a CUDA 13 one does not.
cublas_dir=$(timeout 30 "$PYTHON" - 2>/dev/null <<'PY'
import glob, os, site, sys
roots = site.getsitepackages() + [site.getusersitepackages()] + sys.path
for pattern in ["nvidia/cublas/lib/libcublas.so.12", "nvidia/cu12/lib/libcublas.so.12"]:
    for root in roots:
        hits = glob.glob(os.path.join(root, pattern))
        if hits:
            print(os.path.dirname(hits[0])); sys.exit()
PY
)
if [[ -z $cublas_dir ]]; then
    for d in /usr/local/cuda/lib64 /usr/local/cuda-12*/lib64 /usr/lib/x86_64-linux-gnu; do
        [[ -e $d/libcublas.so.12 ]] && { cublas_dir=$d; break; }
    done
fi
if [[ -n $cublas_dir ]]; then
    export LD_LIBRARY_PATH="$cublas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export CUBLAS_NOTE="libcublas.so.12 from $cublas_dir"
else
    export CUBLAS_NOTE="no libcublas.so.12 found (torch's nvidia/cublas wheel, /usr/local/cuda*): no cuBLAS column"
fi

torch_cuda() { "$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; }

phase_stamp() {
    date -u +"date %Y-%m-%dT%H:%M:%SZ"
    echo "commit $(cat COMMIT)"
    echo "host $(hostname) $(uname -srm), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv || echo "nvidia-smi: not answering"
    nvidia-smi | sed -n '1,12p'
    "$JAVA" -version 2>&1
    "$PYTHON" - <<'PY' || echo "python: no torch"
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(),
      torch.cuda.get_device_name() if torch.cuda.is_available() else "")
try:
    import transformers
    print("transformers", transformers.__version__)
except ImportError:
    print("transformers: not installed")
PY
    echo "cuBLAS: $CUBLAS_NOTE"
    echo "C compiler (torch.compile's Triton needs one): $(command -v gcc || command -v cc || echo none)"
    sass_check
}

# The Hopper GEMM's machine code, where the machine has ptxas and cuobjdump: its matrix instructions
# must be HGMMA (wgmma); HMMA alone would mean the tensor cores run at the mma.sync rate.
sass_check() {
    command -v ptxas >/dev/null && command -v cuobjdump >/dev/null || { echo "sass: no ptxas/cuobjdump here"; return 0; }
    "$PYTHON" -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("ptx/gemm_wgmma.sm_90a.ptx"))' \
        "$(ls lib/kernels-*.jar | grep -v tests | head -1)" > "$work/gemm_wgmma.ptx" || { echo "sass: cannot read the PTX from the kernels jar"; return 0; }
    ptxas -arch=sm_90a -o "$work/gemm_wgmma.cubin" "$work/gemm_wgmma.ptx" || return 0
    cuobjdump --dump-sass "$work/gemm_wgmma.cubin" > "$work/gemm_wgmma.sass"
    echo "sass gemm_wgmma.sm_90a: $(grep -c HGMMA "$work/gemm_wgmma.sass") HGMMA, $(grep -c 'HMMA' "$work/gemm_wgmma.sass") HMMA," \
         "$(grep -c 'LDGSTS' "$work/gemm_wgmma.sass") LDGSTS (cp.async), $(grep -cE 'LDL|STL' "$work/gemm_wgmma.sass") local-memory accesses"
    rm -f "$work/gemm_wgmma.ptx" "$work/gemm_wgmma.cubin"  # the SASS stays with the results
}

phase_tests() {  # the benchmarks below run without the per-launch synchronize
    CHECK_EACH_LAUNCH=true ./run-gpu-tests.sh --disable-ansi-colors --reports-dir "$work/junit"
}

phase_bandwidth() {
    "$JAVA" $JAVA_FLAGS -cp "$CP" io.electra.bench.gpu.KernelBandwidthBench "$work/bench/kernel-bandwidth.json"
}

phase_launch() {
    "$JAVA" $JAVA_FLAGS -cp "$CP" org.openjdk.jmh.Main io.electra.bench.gpu.LaunchOverheadBench \
        -wi 2 -w 1 -i 3 -r 1 -prof gc -rf json -rff "$work/bench/launch-overhead.json"
}

# Ours beside PyTorch: the Java main lists its shapes, torch times them, the Java main times ours and joins both.
phase_versus_torch() {  # gemm|attention Main [extra flags]
    local bench=$1 main=$2
    shift 2
    "$JAVA" $JAVA_FLAGS -cp "$CP" "io.electra.bench.gpu.$main" --list-shapes "$work/bench/$bench-shapes.json" || return
    local torch_args=()
    if torch_cuda && "$PYTHON" "scripts/${bench}_torch.py" "$work/bench/$bench-shapes.json" "$work/bench/$bench-torch.json"; then
        torch_args=(--torch "$work/bench/$bench-torch.json")
    else
        echo "no torch measurement: $bench is timed without the PyTorch column"
    fi
    "$JAVA" $JAVA_FLAGS -cp "$CP" "io.electra.bench.gpu.$main" "$work/bench/$bench.json" "${torch_args[@]}" "$@"
}
phase_gemm() { phase_versus_torch gemm GemmBench --sweep; }
phase_attention() { phase_versus_torch attention AttentionBench; }

# Small preset, batch 128, sequence 128, 10 warm-up and 30 timed steps: the sizes of bench/scripts/run-gpu-bench.sh.
STEP_SHAPE="--presets small --batch 128 --seq 128 --warmup 10 --steps 30 --round 1"
export STEP_SHAPE
logged() {  # the step commands, for ReportWriter's list of what was run
    echo "$*" >> "$work/step/commands.txt"
    "$@"
}
phase_step_ours() {  # objective
    logged "$JAVA" $JAVA_FLAGS -cp "$CP" io.electra.bench.step.StepBenchmark --device cuda $STEP_SHAPE --objectives "$1" \
        --out "$work/step/ours-small-$1-r1.json" $STEP_ARGS
}
phase_step_ours_eager() {  # graph replay vs eager launches: the host overhead of launching the step
    logged "$JAVA" $JAVA_FLAGS -cp "$CP" io.electra.bench.step.StepBenchmark --device cuda $STEP_SHAPE --objectives electra \
        --graph off --out "$work/step/ours-eager-small-electra-r1.json" $STEP_ARGS
}
phase_step_hf() {  # eager|compile objectives
    torch_cuda || { echo "no python3 with CUDA torch: no HF measurement"; return 3; }
    logged "$PYTHON" scripts/torch_step.py --device cuda --impl hf --precision bf16 --head masked --mode "$1" $STEP_SHAPE \
        --objectives "$2" --out "$work/step/hf-$1-masked-small-${2//,/-}-r1.json"
}
export -f logged torch_cuda sass_check phase_stamp phase_tests phase_bandwidth phase_launch phase_versus_torch phase_gemm phase_attention \
    phase_step_ours phase_step_ours_eager phase_step_hf

# Correctness before speed: when the Hopper GEMM failed its gpu tests, the benchmarks after them run
# on gemm_tc (-Delectra.cuda.wgmma=false), so their numbers are of a step that computes the right thing.
wgmma_guard() {
    "$PYTHON" - "$work/junit" <<'PY' && return
import glob, sys, xml.etree.ElementTree as ET
bad = [c for f in glob.glob(sys.argv[1] + "/*.xml") for c in ET.parse(f).iter("testcase")
       if "GemmWgmmaGpuTest" in c.get("classname", "") and (c.find("failure") is not None or c.find("error") is not None)]
sys.exit(1 if bad else 0)
PY
    JAVA_FLAGS="$JAVA_FLAGS -Delectra.cuda.wgmma=false"
    echo "gemm_wgmma FAILED its gpu tests: the benchmarks below run with -Delectra.cuda.wgmma=false" | tee -a "$summary"
}

skipped=()
run_phase() {  # name limit-seconds command...
    local name=$1 limit=$2
    shift 2
    local left=$((budget - reserve - SECONDS))
    local t=$((left < limit ? left : limit))
    if ((t < 15)); then
        printf '%-24s %-30s\n' "$name" "SKIPPED (budget spent)" | tee -a "$summary"
        skipped+=("$name")
        return
    fi
    echo "+ [$name, ${t}s] $*" >> "$work/logs/commands.txt"
    local t0=$SECONDS
    timeout -k 10 "$t" bash -c '"$@"' _ "$@" > "$work/logs/$name.log" 2>&1
    local rc=$? status
    case $rc in
        0) status=ok ;;
        124 | 137) status="TIMED OUT at ${t}s" ;;
        *) status="FAILED (exit $rc)" ;;
    esac
    local last
    if [[ $name == tests ]]; then  # the JUnit counts, not the last line of the tree
        last=$(grep -E 'tests (successful|failed|aborted)' "$work/logs/$name.log" | tr -s ' []' ' ' | paste -sd, -)
    elif grep -q SKIPPED "$work/logs/$name.log"; then  # e.g. JMH's score without a device measures nothing
        last=$(grep -m 1 -o 'SKIPPED.*' "$work/logs/$name.log" | cut -c1-150)
    else
        last=$(grep -v '^\s*$' "$work/logs/$name.log" | tail -n 1 | cut -c1-150)
    fi
    printf '%-24s %-20s %4ds  %s\n' "$name" "$status" $((SECONDS - t0)) "$last" | tee -a "$summary"
}

step_phases=(step-ours-electra step-ours-mlm step-ours-eager step-hf-eager step-hf-compile-electra step-hf-compile-mlm)
for p in "${phases[@]}"; do
    [[ $p == step ]] && set -- "${step_phases[@]}" || set -- "$p"
    for q in "$@"; do
        case $q in
            stamp) run_phase stamp 30 phase_stamp; cp "$work/logs/stamp.log" "$out/environment.txt" ;;
            tests) run_phase tests 240 phase_tests
                   cp verified.json "$work/verified.json"; cp verified.json "$out/verified.json"
                   cp "$work/logs/tests.log" "$out/gpu-tests.log" 2>/dev/null
                   wgmma_guard ;;
            bandwidth) run_phase bandwidth 60 phase_bandwidth ;;
            launch) run_phase launch 40 phase_launch ;;
            gemm) run_phase gemm 100 phase_gemm ;;
            attention) run_phase attention 60 phase_attention ;;
            step-ours-electra) run_phase "$q" 90 phase_step_ours electra ;;
            step-ours-mlm) run_phase "$q" 60 phase_step_ours mlm ;;
            step-ours-eager) run_phase "$q" 60 phase_step_ours_eager ;;
            step-hf-eager) run_phase "$q" 90 phase_step_hf eager electra,mlm ;;
            step-hf-compile-electra) run_phase "$q" 150 phase_step_hf compile electra ;;
            step-hf-compile-mlm) run_phase "$q" 120 phase_step_hf compile mlm ;;
            *) echo "run-all: unknown phase '$q' (stamp tests bandwidth launch gemm attention step ${step_phases[*]})" | tee -a "$summary" ;;
        esac
    done
done

# ms/step side by side and the ELECTRA/BERT ratio per tool, from whatever step files exist.
if compgen -G "$work/step/*.json" > /dev/null; then
    "$PYTHON" - "$work/step" <<'PY' 2>&1 | tee -a "$summary"
import glob, json, os, sys
rows = {}
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    for r in json.load(open(f)).get("results", []):
        rows.setdefault(r["variant"], {})[r["objective"]] = r["medianMs"]
for variant, o in rows.items():
    ratio = f"{o['electra'] / o['mlm']:.2f}" if "electra" in o and "mlm" in o else "-"
    print(f"step {variant:28s} electra {o.get('electra', float('nan')):8.1f} ms  mlm {o.get('mlm', float('nan')):8.1f} ms"
          f"  ELECTRA/BERT {ratio}")
PY
fi
if ((${#skipped[@]} > 0)); then
    echo "to finish: ./run-all.sh OUT ${skipped[*]}" | tee -a "$summary"
fi
cp "$summary" "$out/summary.txt"
for f in bandwidth launch gemm attention step-ours-electra step-ours-mlm step-ours-eager step-hf-eager step-hf-compile-electra step-hf-compile-mlm; do
    [[ -f $work/logs/$f.log ]] && { echo "=== $f"; cat "$work/logs/$f.log"; }
done > "$out/bench.log"
tar czf "$out/results.tar.gz" -C "$here/results" "$stamp"
for f in bandwidth gemm attention; do  # the headline numbers, in case the files do not come back
    [[ -f $work/logs/$f.log ]] && { echo "--- $f"; grep -v -e WARNING -e '^ *tile ' "$work/logs/$f.log" | tail -n 18 | cut -c1-140; }
done
echo "run-all: done in ${SECONDS}s; in $out: $(cd "$out" && ls | tr '\n' ' ')"
cat "$summary"
