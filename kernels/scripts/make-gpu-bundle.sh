#!/usr/bin/env bash
# Makes gpu-bundle/ (git-ignored, < 60 MB): a jlink Java runtime plus the jars and scripts that run
# the gpu tests, the ledger and every GPU benchmark on a machine that has an NVIDIA driver and python3
# with torch, and no JDK. There, ./run-all.sh OUT does all of it (bench/README.md, "GPU"); the
# device session's call is run(command "cd gpu-bundle && ./run-all.sh $OUT", carry ["gpu-bundle"]).
# ./run-gpu-tests.sh alone runs the gpu tests and the ledger.
#
# Usage: kernels/scripts/make-gpu-bundle.sh [out-dir]      MVN_FLAGS=-o for an offline build
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/gpu-bundle}
mvn_flags=${MVN_FLAGS:-}
# 3.8.1, not the root pom's 3.6.1: its own dependencies are in the local repository, so -o works.
dep=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
# Pinned companions of the root pom's versions: JUnit Platform 1.10.2 belongs to junit-jupiter
# 5.10.2, jopt-simple 5.0.4 and commons-math3 3.6.1 are what jmh-core 1.37 depends on.
extra=(org.junit.platform:junit-platform-console-standalone:1.10.2 org.openjdk.jmh:jmh-core:1.37
       net.sf.jopt-simple:jopt-simple:5.0.4 org.apache.commons:commons-math3:3.6.1)
# java.desktop is left out on purpose (12 MB): only optional Jackson paths reference it;
# jdk.zipfs lets the JUnit launcher scan the test jar.
modules=java.base,java.logging,java.management,java.sql,java.xml,jdk.management,jdk.unsupported,jdk.incubator.vector,jdk.zipfs

cd "$root"
echo "building jars..."
mvn -q -B $mvn_flags -DskipTests -Delectra.emulated.skip=true package $dep:copy-dependencies -pl kernels,bench -am \
    -DincludeScope=runtime -DoutputDirectory=target/bundle-deps -DexcludeGroupIds=io.electra -DexcludeArtifactIds=fastutil
rm -rf "$out"
mkdir -p "$out/lib" "$out/results"
# electra.jar: the model classes StepBenchmark builds (none of electra's own dependencies are reached)
cp engine/target/engine-*.jar kernels/target/kernels-*.jar bench/target/bench-*-SNAPSHOT.jar electra/target/electra.jar "$out/lib/"
cp kernels/target/bundle-deps/*.jar "$out/lib/"  # jcuda, jcublas and their natives, jackson (fastutil: unused by these classes)
# electra's gpu tests (the trainer's CUDA graph, the bf16 step) run the trainer: its small runtime
# dependencies come along; fastutil (23 MB, tokenizer and corpus only) and XChart with java.desktop
# (the PNG curves, which the trainer skips with a message when it cannot draw) stay out.
cp electra/target/electra-tests.jar "$out/lib/"
for jar in progressbar jline-terminal jline-native slf4j-api slf4j-simple; do
    cp electra/target/bundle-deps/$jar-*.jar "$out/lib/"
done
# fastutil cut to what electra's classes reach (Vocab's maps, the tokenizer's lists): the closure of
# class-file references from electra.jar and electra-tests.jar into the fastutil jar, a few hundred KB.
fastutil=$(ls electra/target/bundle-deps/fastutil-*.jar 2>/dev/null || ls "$HOME"/.m2/repository/it/unimi/dsi/fastutil/*/fastutil-*.jar | head -n 1)
python3 - "$fastutil" "$out/lib/fastutil-reachable.jar" electra/target/electra.jar electra/target/electra-tests.jar <<'PY'
import re, sys, zipfile
src, dst, roots = sys.argv[1], sys.argv[2], sys.argv[3:]
ref = re.compile(rb"it/unimi/dsi/fastutil/[A-Za-z0-9_/$]+")
lib = zipfile.ZipFile(src)
names = set(lib.namelist())
todo = []
for r in roots:
    with zipfile.ZipFile(r) as z:
        for n in z.namelist():
            if n.endswith(".class"):
                todo += [m.decode() for m in ref.findall(z.read(n))]
keep = set()
while todo:
    c = todo.pop() + ".class"
    if c in keep or c not in names:
        continue
    keep.add(c)
    todo += [m.decode() for m in ref.findall(lib.read(c))]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
    for c in sorted(keep):
        out.writestr(c, lib.read(c))
print(f"fastutil: {len(keep)} of {sum(n.endswith('.class') for n in names)} classes kept")
PY
# The few shared files those tests read (../shared does not travel): the tiny HF fixture, the vocab, an SST-2 slice.
shared=${ELECTRA_SHARED:-$root/../shared}
mkdir -p "$out/shared/fixtures/hf-electra" "$out/shared/data/vocab"
cp -r "$shared/fixtures/hf-electra/tiny" "$out/shared/fixtures/hf-electra/"
cp "$shared/data/vocab/bert-base-uncased-vocab.txt" "$out/shared/data/vocab/"
# FinetuneGpuTest: SST-2's dev set and the head of its train set (it trains on 160 rows)
mkdir -p "$out/shared/data/glue/SST-2"
cp "$shared/data/glue/SST-2/dev.tsv" "$out/shared/data/glue/SST-2/"
head -n 400 "$shared/data/glue/SST-2/train.tsv" > "$out/shared/data/glue/SST-2/train.tsv"
# The natives jars also carry NVRTC, nvPTXCompiler, runtime-API and legacy-cuBLAS bindings (25 MB
# unpacked); the backend loads only the driver-API library and CublasGemm only JCublas2, so the
# bundle keeps just those two.
for natives in "$out"/lib/jcuda-natives-*.jar "$out"/lib/jcublas-natives-*.jar; do
    python3 - "$natives" <<'PY'
import sys, zipfile, os
src = sys.argv[1]; tmp = src + ".tmp"
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        name = os.path.basename(item.filename)
        if name.startswith("lib") and name.endswith(".so") and not name.startswith(("libJCudaDriver-", "libJCublas2-")):
            continue
        zout.writestr(item, zin.read(item.filename))
os.replace(tmp, src)
PY
done
for a in "${extra[@]}"; do
    mvn -q -B $mvn_flags $dep:copy -Dartifact="$a" -DoutputDirectory="$out/lib"
done
cp kernels/verified.json "$out/verified.json"
mkdir -p "$out/scripts"
cp bench/scripts/gemm_torch.py bench/scripts/attention_torch.py bench/scripts/torch_step.py "$out/scripts/"
cp kernels/scripts/bundle-run-all.sh "$out/run-all.sh"
git rev-parse --short HEAD > "$out/COMMIT" 2>/dev/null || echo unknown > "$out/COMMIT"

echo "linking the runtime ($modules)..."
jlink --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=2 --output "$out/jre"

cat > "$out/run-gpu-tests.sh" <<'RUN'
#!/usr/bin/env bash
# Runs every gpu test (and the ledger check) against the CPU reference; updates ./verified.json.
# Copy verified.json back to kernels/verified.json in the checkout afterwards and commit it.
# Every launch synchronizes and names the kernel that faulted (electra.cuda.checkEachLaunch);
# CHECK_EACH_LAUNCH=false runs them asynchronously, as in training.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
exec jre/bin/java --add-modules jdk.incubator.vector -Xss4m -Xmx8g \
    -Delectra.ledger="$here/verified.json" -Delectra.commit="$(cat COMMIT)" \
    -Delectra.cuda.checkEachLaunch="${CHECK_EACH_LAUNCH:-true}" -Delectra.shared="$here/shared" -Delectra.poisonUnfilled=true \
    -jar lib/junit-platform-console-standalone-1.10.2.jar execute \
    --class-path "$(ls lib/*.jar | grep -v console-standalone | tr '\n' ':')" \
    --scan-class-path lib/kernels-0.1.0-SNAPSHOT-tests.jar:lib/electra-tests.jar --include-tag 'gpu | ledger' \
    --details=tree "$@"
RUN
chmod +x "$out/run-gpu-tests.sh" "$out/run-all.sh"
size=$(du -sm "$out" | cut -f1)
echo "gpu bundle: $out, ${size} MB"
if [ "$size" -ge 60 ]; then echo "the bundle is ${size} MB, over the 60 MB budget" >&2; exit 1; fi
