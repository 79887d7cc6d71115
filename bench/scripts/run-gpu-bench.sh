#!/usr/bin/env bash
# The GPU comparison (not yet run: written on a machine without a GPU). Our StepBenchmark with
# --device cuda against HuggingFace transformers (ElectraForMaskedLM + ElectraForPreTraining, embeddings
# shared) in eager mode with bf16 autocast and with torch.compile, each with the generator head at the
# masked slots only (official ELECTRA, ours) and at every position (HF's ElectraForMaskedLM), alternating
# tools round by round; then the report, with MFU against --peak-tflops (H200 dense bf16: 989).
#
#   bench/scripts/run-gpu-bench.sh [--presets tiny,small2l,small,base] [--rounds 3] [--peak-tflops 989]
#                                  [--sweep-preset small] [--sweep-batches 32,64,128,256] [--skip-build] [--raw DIR]
#
# Needs a Python with torch (CUDA build) and transformers: PYTHON=/path/to/python (default python3).
set -euo pipefail
cd "$(dirname "$0")/../.."

PRESETS=tiny,small2l,small,base
ROUNDS=3
PEAK=989
SWEEP_PRESET=small
SWEEP_BATCHES=32,64,128,256
SKIP_BUILD=0
RAW=""
PYTHON=${PYTHON:-python3}
JAVA_OPTS=${JAVA_OPTS:--Xmx16g}
JAR=${JAR:-bench/target/benchmarks.jar}
SEQ=128

while [[ $# -gt 0 ]]; do
  case "$1" in
    --presets) PRESETS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --peak-tflops) PEAK=$2; shift 2 ;;
    --sweep-preset) SWEEP_PRESET=$2; shift 2 ;;
    --sweep-batches) SWEEP_BATCHES=$2; shift 2 ;;
    --skip-build) SKIP_BUILD=1; shift ;;
    --raw) RAW=$2; shift 2 ;;
    *) echo "run-gpu-bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

size_of() {  # batch, warm-up steps, timed steps
  case "$1" in
    tiny|small2l|small) echo "128 10 30" ;;
    base) echo "64 5 20" ;;
    large) echo "16 5 10" ;;
    *) echo "run-gpu-bench.sh: no GPU size for preset $1" >&2; exit 2 ;;
  esac
}

nvidia-smi >/dev/null || { echo "run-gpu-bench.sh: nvidia-smi does not answer; no GPU here" >&2; exit 1; }
"$PYTHON" -c 'import torch, transformers; assert torch.cuda.is_available()' || {
  echo "run-gpu-bench.sh: $PYTHON needs a CUDA torch and transformers" >&2; exit 1; }
[[ $SKIP_BUILD == 1 ]] || mvn -q -pl bench -am package -DskipTests
RAW=${RAW:-$(mktemp -d /tmp/electra-gpu-bench.XXXXXX)}
mkdir -p "$RAW"
echo "raw results in $RAW"

run() {
  echo "$*" >> "$RAW/commands.txt"
  echo "+ $*"
  "$@" || echo "run-gpu-bench.sh: FAILED (exit $?): $*" | tee -a "$RAW/failures.txt"
}
ours() {  # preset round batch warmup steps out [extra]
  run java --add-modules jdk.incubator.vector $JAVA_OPTS -cp "$JAR" io.electra.bench.step.StepBenchmark --device cuda --presets "$1" --round "$2" \
    --batch "$3" --seq $SEQ --warmup "$4" --steps "$5" --out "$6" "${@:7}"
}
hf() {  # preset round batch warmup steps mode head out [extra]
  run "$PYTHON" bench/scripts/torch_step.py --device cuda --impl hf --precision bf16 --presets "$1" --round "$2" \
    --batch "$3" --seq $SEQ --warmup "$4" --steps "$5" --mode "$6" --head "$7" --out "$8" "${@:9}"
}
torch_all() {  # preset round batch warmup steps
  for mode in eager compile; do
    for head in masked all; do
      hf "$1" "$2" "$3" "$4" "$5" $mode $head "$RAW/hf-$mode-$head-$1-r$2.json"
    done
  done
}

IFS=, read -ra PRESET_LIST <<< "$PRESETS"
for ((r = 1; r <= ROUNDS; r++)); do
  for p in "${PRESET_LIST[@]}"; do
    read -r b w s <<< "$(size_of "$p")"
    if (( r % 2 == 1 )); then
      ours "$p" "$r" "$b" "$w" "$s" "$RAW/ours-$p-r$r.json"
      torch_all "$p" "$r" "$b" "$w" "$s"
    else
      torch_all "$p" "$r" "$b" "$w" "$s"
      ours "$p" "$r" "$b" "$w" "$s" "$RAW/ours-$p-r$r.json"
    fi
  done
done

IFS=, read -ra SWEEP <<< "$SWEEP_BATCHES"
read -r _ w s <<< "$(size_of "$SWEEP_PRESET")"
for b in "${SWEEP[@]}"; do
  ours "$SWEEP_PRESET" 1 "$b" "$w" "$s" "$RAW/ours-sweep-b$b.json" --objectives electra
  hf "$SWEEP_PRESET" 1 "$b" "$w" "$s" eager masked "$RAW/hf-sweep-eager-b$b.json" --objectives electra
  hf "$SWEEP_PRESET" 1 "$b" "$w" "$s" compile masked "$RAW/hf-sweep-compile-b$b.json" --objectives electra
done

machine=${MACHINE:-$(hostname -s 2>/dev/null || echo machine)}
java --add-modules jdk.incubator.vector -cp "$JAR" io.electra.bench.report.ReportWriter --raw "$RAW" --out "bench/results/$(date +%Y-%m-%d)-${machine}" \
  --sweep-preset "$SWEEP_PRESET" --peak-tflops "$PEAK"
