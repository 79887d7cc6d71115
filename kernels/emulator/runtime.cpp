// runtime.cpp: the emulated device. A launch runs its blocks on a few host threads (workers);
// a worker runs one block at a time, each CUDA thread of it a fiber with its own stack. A fiber
// runs until it waits (at __syncthreads, at a warp collective) or ends; the worker then resumes
// the next runnable fiber. Running every thread as far as it can before the next one starts is
// the harshest legal schedule for a missing barrier: a thread reads shared memory its
// neighbours have not written yet, or overwrites what they have not read yet.
//
// Warp collectives (shuffles, ldmatrix, mma) are computed by the last lane of the mask to
// arrive, for every lane at once, so each is one indivisible warp-wide step as on the hardware.
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <memory>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cuda_emu.h"

// Saves the callee-saved registers on the current stack, stores the stack pointer in *from,
// switches to `to` and restores its registers: the whole of a fiber switch on x86-64 System V.
extern "C" void emu_switch_stack(void** from, void* to);
asm(R"(
    .text
    .globl emu_switch_stack
    .hidden emu_switch_stack
    .type emu_switch_stack, @function
emu_switch_stack:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_switch_stack, .-emu_switch_stack
)");

namespace emu {
namespace {

constexpr size_t STACK_BYTES = 256 * 1024;
constexpr size_t GUARD_BYTES = 4096;
constexpr size_t SIGNAL_STACK_BYTES = 64 * 1024;
constexpr size_t STATIC_SHARED_LIMIT = 48 * 1024;
constexpr int MAX_IN_WORDS = 16, MAX_OUT_WORDS = 4;
constexpr int MAX_TOKEN_REGISTERS = 128;  // the widest {} group: wgmma m64n256's 128 f32 accumulators
constexpr int WARPGROUP_THREADS = 128;
constexpr int WGMMA_MAX_REGS = 128;        // f32 accumulators per thread of m64n256
constexpr size_t SHARED_CHUNKS = MAX_SHARED_PER_BLOCK / 16;
// What an accumulator register of an in-flight wgmma.mma_async holds until its wait: a NaN, so a
// thread that reads it early computes NaN; a thread that writes it is caught at the wait.
constexpr uint32_t WGMMA_IN_FLIGHT = 0x7fc0ffeeu;

enum class State { Runnable, AtBarrier, AtCollective, Done, Faulted };

// One asm statement, parsed once: its instruction and, per top-level operand ("%3", "{%0, %1}",
// "[%4]", "16", "p"), the asm operands it names, its constant or its name.
enum class Op {
    CvtBf16x2, CpAsync16, CpAsync4, CommitGroup, WaitGroup, WaitAll, Ldmatrix, LdmatrixTrans, Mma,
    WgmmaFence, WgmmaCommit, WgmmaWait, FenceProxyAsync, WgmmaMma
};

struct Token {
    std::vector<int> refs;
    int count = 0;  // refs.size(); 0: a constant or a name
    int64_t constant = 0;
    std::string name;  // a bare identifier (a predicate register)
};

struct Instruction {
    Op op;
    std::vector<Token> tokens;  // the operands after the mnemonic
    int n = 0;                  // wgmma.mma_async: the N of m64nNk16
    int scaleDRef = -1;         // wgmma.mma_async: the asm operand setp.ne.b32 turns into scale-d
};

// The 16-byte shared chunks read by one wgmma.mma_async and their bytes when it read them: the
// last thread of the warpgroup to complete the op checks that nothing has changed them since.
struct WgmmaReads {
    std::vector<uint32_t> chunks;  // chunk indices (shared offset / 16), A's first
    size_t aChunks = 0;
    std::vector<unsigned char> bytes;
    int pending = WARPGROUP_THREADS;  // threads that have not completed the op
};

// One thread's share of an issued wgmma.mma_async: where its accumulators go and what they become.
struct WgmmaOp {
    int group = -1;  // the wgmma-group (commit order); -1 until committed
    int regs = 0;
    uintptr_t lo = 0, hi = 0;  // the lowest and highest register address
    float* reg[WGMMA_MAX_REGS];
    uint32_t result[WGMMA_MAX_REGS];
    std::shared_ptr<WgmmaReads> reads;
};

// The accumulators a wgmma.wait_group last wrote, and how many wgmma.fence the thread had run then:
// a later mma_async that finds them changed by the thread needs a wgmma.fence since.
struct WgmmaWritten {
    int regs = 0;
    float* reg[WGMMA_MAX_REGS];
    uint32_t value[WGMMA_MAX_REGS];
    uint64_t fences = 0;
};

// Who last landed cp.async data in a 16-byte shared chunk, and whether that thread has since run
// fence.proxy.async (and at which barrier epoch): the async proxy (wgmma) may read it only after
// such a fence and a __syncthreads.
struct ChunkState {
    uint16_t owner = 0;  // the landing thread's index + 1; 0: nothing pending
    uint8_t fenced = 0;
    uint8_t listed = 0;  // in Worker::touchedChunks
    uint32_t epoch = 0;  // the block's barrier epoch at the fence
    uint16_t readers = 0;  // wgmma.mma_async ops that read this chunk and are not complete in every thread
};


struct AsyncCopy {
    unsigned char* dst;
    const unsigned char* src;
    int bytes, srcBytes;
    int group;  // -1 until committed
};

struct Fiber {
    void* sp = nullptr;
    State state = State::Runnable;
    ThreadCoords coords{};
    int lane = 0, warp = 0;
    std::vector<AsyncCopy> copies;
    int committedGroups = 0;
    uint64_t copiesIssued = 0;  // this lane's cp.async count: the k-th of every lane is one warp instruction
    std::vector<WgmmaOp> wgmma;          // issued, not yet completed, in issue order
    int wgmmaCommitted = 0;              // wgmma-groups committed so far
    uint64_t wgmmaFences = 0;            // wgmma.fence instructions run so far
    std::vector<WgmmaWritten> wgmmaWritten;
    std::vector<uint32_t> unfencedChunks;  // chunks whose cp.async data this thread landed, not proxy-fenced yet
};

// The parameters every thread of a warpgroup must agree on when it issues wgmma.mma_async.
struct WgmmaIssue {
    const char* text;
    uint64_t descA, descB;
    uint32_t scaleD, transA, transB;
    uint64_t fences;
    int committed;
    size_t inFlight;
};

struct WarpGroup {
    int arrived = 0;
    WgmmaIssue issue{};
    std::vector<uint32_t> in;  // [thread of the group][register]: the accumulator inputs
};

// One warp-wide cp.async instruction as its lanes issue it: each lane's global source range.
struct CopyGroup {
    unsigned lanes = 0;
    uint64_t src[32];
    int bytes[32];
};

struct Warp {
    unsigned present = 0;  // lanes that exist in this block
    unsigned exited = 0;   // lanes that have returned from the kernel
    unsigned arrived = 0, mask = 0;
    Collective kind{};
    uint32_t arg = 0;
    uint32_t in[32][MAX_IN_WORDS];
    uint32_t out[32][MAX_OUT_WORDS];
    std::deque<CopyGroup> copyGroups;  // instructions some lanes have not issued yet
    uint64_t copyBase = 0;             // the instruction index of copyGroups.front()
};

struct Launch;

// One host thread's share of a launch: fibers, their stacks, the block's shared memory.
struct Worker {
    std::vector<Fiber> fibers;
    std::vector<Warp> warps;
    std::vector<WarpGroup> groups;
    unsigned blockThreads = 0;
    uint32_t barrierEpoch = 1;             // barriers released in this block, plus one
    std::vector<ChunkState> chunks;        // per 16-byte chunk of shared memory
    std::vector<uint32_t> touchedChunks;   // chunks with a state to clear before the next block
    unsigned char* stacks = nullptr;
    size_t stackCount = 0;
    std::vector<unsigned char> signalStack;  // where the fault handler runs: a fiber that overflowed its stack has none left
    std::vector<unsigned char> shared;
    size_t sharedTop = 0, dynamicBytes = 0, staticBytes = 0;
    uint64_t blockSerial = 0;
    void* schedulerSp = nullptr;
    Fiber* current = nullptr;
    int live = 0, atBarrier = 0;
    uint64_t ldmatrixRequests = 0, ldmatrixWavefronts = 0;
    uint64_t copyInstructions = 0, copySectors = 0, copyIdealSectors = 0;

    // The 32-byte sectors one warp cp.async instruction touches, against the fewest its bytes fill.
    void account(const CopyGroup& g) {
        uint64_t sectors[64];
        int count = 0;
        long requested = 0;
        for (int l = 0; l < 32; l++) {
            if (!(g.lanes & (1u << l)) || g.bytes[l] <= 0) continue;
            requested += g.bytes[l];
            for (uint64_t s = g.src[l] >> 5; s <= (g.src[l] + g.bytes[l] - 1) >> 5 && count < 64; s++) sectors[count++] = s;
        }
        std::sort(sectors, sectors + count);
        copyInstructions++;
        copySectors += std::unique(sectors, sectors + count) - sectors;
        copyIdealSectors += (requested + 31) / 32;
    }
    const Launch* launch = nullptr;
    std::string error;
    std::unordered_map<const char*, Instruction> ptxCache;  // node-based: addresses stay put
    const char* recentText[64] = {};
    const Instruction* recent[64] = {};

    ~Worker() {
        if (stacks) munmap(stacks, stackCount * (STACK_BYTES + GUARD_BYTES));
    }

    void ensureStacks(size_t n) {
        if (stackCount >= n) return;
        if (stacks) munmap(stacks, stackCount * (STACK_BYTES + GUARD_BYTES));
        size_t bytes = n * (STACK_BYTES + GUARD_BYTES);
        void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            fprintf(stderr, "cuda-emu: cannot map %zu bytes of fiber stacks\n", bytes);
            abort();
        }
        stacks = (unsigned char*)p;
        stackCount = n;
        for (size_t i = 0; i < n; i++) mprotect(stacks + i * (STACK_BYTES + GUARD_BYTES), GUARD_BYTES, PROT_NONE);
    }
};

struct Launch {
    const KernelInfo* kernel;
    Dim3 grid, block;
    unsigned dynamicSmem;
    void* const* params;
};

thread_local Worker* tlsWorker = nullptr;
thread_local bool tlsInFiber = false;  // a kernel thread (a fiber) runs on this host thread now
std::atomic<uint64_t> totalLdmatrixRequests{0}, totalLdmatrixWavefronts{0};
std::atomic<uint64_t> totalCopyInstructions{0}, totalCopySectors{0}, totalCopyIdealSectors{0};
uint64_t blockSerials = 0;  // distinct per block run on any worker (under launchMutex)

std::mutex registryMutex;
std::unordered_map<std::string, KernelInfo>& registry() {
    static std::unordered_map<std::string, KernelInfo> r;
    return r;
}

Worker& worker() {
    return *tlsWorker;
}

// Back to the worker's scheduler; returns when this fiber is resumed.
void yieldToScheduler() {
    Worker& w = worker();
    emu_switch_stack(&w.current->sp, w.schedulerSp);
}

[[noreturn]] void faultCurrent(const std::string& message) {
    Worker& w = worker();
    if (w.error.empty()) w.error = message;
    w.current->state = State::Faulted;
    emu_switch_stack(&w.current->sp, w.schedulerSp);
    abort();  // a faulted fiber is never resumed
}

std::string where() {
    Worker& w = worker();
    const ThreadCoords& c = w.current->coords;
    char b[160];
    snprintf(b, sizeof b, "block (%u,%u,%u) thread (%u,%u,%u)", c.block.x, c.block.y, c.block.z, c.thread.x, c.thread.y,
             c.thread.z);
    return b;
}

void releaseBarrier(Worker& w) {
    for (Fiber& f : w.fibers)
        if (f.state == State::AtBarrier) f.state = State::Runnable;
    w.atBarrier = 0;
    w.barrierEpoch++;
}

// cp.async data of thread f has landed at dst: until f runs fence.proxy.async, the async proxy
// (wgmma.mma_async) must not read those chunks.
void markLanded(Worker& w, Fiber& f, const unsigned char* dst, int bytes) {
    if (bytes <= 0) return;
    const uint32_t offset = (uint32_t)(dst - w.shared.data());
    const uint16_t me = (uint16_t)(&f - w.fibers.data() + 1);
    for (uint32_t c = offset >> 4; c <= (offset + bytes - 1) >> 4; c++) {
        ChunkState& st = w.chunks[c];
        if (st.owner == me && !st.fenced) continue;  // already listed for f's next fence
        if (!st.listed) {
            st.listed = 1;
            w.touchedChunks.push_back(c);
        }
        st.owner = me;
        st.fenced = 0;
        f.unfencedChunks.push_back(c);
    }
}

// A fiber starts here (its stack is prepared to "return" into it) and never returns.
void fiberMain() {
    Worker& w = worker();
    Fiber* f = w.current;
    w.launch->kernel->call(w.launch->params);
    if (!f->wgmma.empty() && w.error.empty()) {
        int uncommitted = 0;
        for (const WgmmaOp& op : f->wgmma) uncommitted += op.group < 0;
        char b[200];
        snprintf(b, sizeof b,
                 " exited with %zu wgmma.mma_async in flight (%d of them never committed): a wgmma.wait_group must "
                 "complete every one",
                 f->wgmma.size(), uncommitted);
        w.error = where() + b;
    }
    if (!f->copies.empty()) {
        // A thread may end with copies in flight only if nothing reads them; they still land.
        for (AsyncCopy& c : f->copies) {
            memcpy(c.dst, c.src, c.srcBytes);
            memset(c.dst + c.srcBytes, 0, c.bytes - c.srcBytes);
            markLanded(w, *f, c.dst, c.bytes);
        }
        f->copies.clear();
    }
    f->state = State::Done;
    w.live--;
    Warp& warp = w.warps[f->warp];
    warp.exited |= 1u << f->lane;
    if (warp.arrived != 0 && (warp.mask & (1u << f->lane))) {
        if (w.error.empty())
            w.error = where() + " exited while lanes of its warp wait for it at a warp collective";
    }
    if ((size_t)(f->warp / 4) < w.groups.size() && w.groups[f->warp / 4].arrived != 0 && w.error.empty())
        w.error = where() + " exited while threads of its warpgroup wait for it at wgmma.mma_async";
    if (w.atBarrier > 0 && w.atBarrier == w.live) releaseBarrier(w);
    emu_switch_stack(&f->sp, w.schedulerSp);
    abort();
}

void prepareFiber(Worker& w, size_t i) {
    Fiber& f = w.fibers[i];
    unsigned char* base = w.stacks + i * (STACK_BYTES + GUARD_BYTES) + GUARD_BYTES;
    uintptr_t top = ((uintptr_t)(base + STACK_BYTES)) & ~(uintptr_t)15;
    void** sp = (void**)top;
    *--sp = nullptr;                   // fiberMain's return address: never used
    *--sp = (void*)&fiberMain;         // where emu_switch_stack's ret goes
    for (int r = 0; r < 6; r++) *--sp = nullptr;  // rbp rbx r12-r15
    f.sp = sp;
    f.state = State::Runnable;
    f.copies.clear();
    f.committedGroups = 0;
    f.copiesIssued = 0;
    f.wgmma.clear();
    f.wgmmaCommitted = 0;
    f.wgmmaFences = 0;
    f.wgmmaWritten.clear();
    f.unfencedChunks.clear();
}

void runBlock(Worker& w, const Launch& L, Dim3 index) {
    const unsigned n = L.block.x * L.block.y * L.block.z;
    w.blockSerial = __atomic_add_fetch(&blockSerials, 1, __ATOMIC_RELAXED);
    w.sharedTop = (L.dynamicSmem + 127) & ~(size_t)127;
    w.dynamicBytes = L.dynamicSmem;
    w.staticBytes = 0;
    // Shared memory starts as NaN bytes: a kernel that reads what no thread wrote sees NaN (static
    // variables are filled as they are placed, in shared_site).
    memset(w.shared.data(), 0xff, L.dynamicSmem);
    w.warps.assign((n + 31) / 32, Warp{});
    w.blockThreads = n;
    if (w.groups.size() < (n + 127) / 128) w.groups.resize((n + 127) / 128);
    for (WarpGroup& g : w.groups) g.arrived = 0;
    w.barrierEpoch = 1;
    if (w.chunks.size() != SHARED_CHUNKS) w.chunks.assign(SHARED_CHUNKS, ChunkState{});
    for (uint32_t c : w.touchedChunks) w.chunks[c] = ChunkState{};
    w.touchedChunks.clear();
    for (unsigned i = 0; i < n; i++) {
        Fiber& f = w.fibers[i];
        f.coords.thread = {i % L.block.x, (i / L.block.x) % L.block.y, i / (L.block.x * L.block.y)};
        f.coords.block = {index.x, index.y, index.z};
        f.coords.blockSize = {L.block.x, L.block.y, L.block.z};
        f.coords.gridSize = {L.grid.x, L.grid.y, L.grid.z};
        f.lane = (int)(i % 32);
        f.warp = (int)(i / 32);
        w.warps[f.warp].present |= 1u << f.lane;
        prepareFiber(w, i);
    }
    w.live = (int)n;
    w.atBarrier = 0;
    while (w.live > 0 && w.error.empty()) {
        bool ran = false;
        for (unsigned i = 0; i < n && w.error.empty(); i++) {
            Fiber& f = w.fibers[i];
            if (f.state != State::Runnable) continue;
            w.current = &f;
            tlsInFiber = true;  // until the fiber switches back here
            emu_switch_stack(&w.schedulerSp, f.sp);
            tlsInFiber = false;
            ran = true;
        }
        if (!ran && w.error.empty()) {
            int barrier = 0, collective = 0;
            for (unsigned i = 0; i < n; i++) {
                barrier += w.fibers[i].state == State::AtBarrier;
                collective += w.fibers[i].state == State::AtCollective;
            }
            char b[300];
            snprintf(b, sizeof b,
                     "deadlock in block (%u,%u,%u): %d threads wait at __syncthreads, %d at a warp or warpgroup "
                     "collective, %d have exited",
                     index.x, index.y, index.z, barrier, collective, (int)n - w.live);
            w.error = b;
        }
    }
    for (Warp& warp : w.warps)
        for (const CopyGroup& g : warp.copyGroups) w.account(g);  // lanes that issued fewer copies
}

}  // namespace

ThreadCoords& coords() {
    return worker().current->coords;
}

void fail(const char* fmt, ...) {
    char b[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    faultCurrent(where() + ": " + b);
}

void syncthreads() {
    Worker& w = worker();
    Fiber* f = w.current;
    if (w.warps[f->warp].mask & (1u << f->lane)) fail("__syncthreads while inside a warp collective");
    f->state = State::AtBarrier;
    if (++w.atBarrier == w.live) {
        releaseBarrier(w);
        return;
    }
    yieldToScheduler();
}

namespace {

uint32_t smemWord(Worker& w, uint32_t offset) {
    if ((size_t)offset + 4 > w.shared.size() || (offset & 1)) fail("shared address 0x%x is outside the block's shared memory", offset);
    uint32_t v;
    memcpy(&v, w.shared.data() + offset, 4);
    return v;
}

uint16_t smemHalf(Worker& w, uint32_t offset) {
    if ((size_t)offset + 2 > w.shared.size() || (offset & 1)) fail("shared address 0x%x is outside the block's shared memory", offset);
    uint16_t v;
    memcpy(&v, w.shared.data() + offset, 2);
    return v;
}

float bf16ToFloat(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

// The collective's results for every lane of the mask (the last lane to arrive runs this).
void complete(Worker& w, Warp& warp) {
    const unsigned mask = warp.mask;
    switch (warp.kind) {
        case Collective::Shuffle: {
            const int mode = warp.arg & 0xff, width = (int)(warp.arg >> 16);
            if (width <= 0 || width > 32 || (width & (width - 1))) fail("shuffle width %d is not a power of two <= 32", width);
            for (int l = 0; l < 32; l++) {
                if (!(mask & (1u << l))) continue;
                const int segment = l & ~(width - 1), arg = (int)warp.in[l][2];
                int src = l;
                if (mode == 0) src = segment + (arg & (width - 1));
                else if (mode == 1) src = (l - arg >= segment) ? l - arg : l;
                else if (mode == 2) src = (l + arg < segment + width) ? l + arg : l;
                else src = ((l ^ arg) < segment + width && (l ^ arg) >= segment) ? (l ^ arg) : l;
                if (src < 0 || src > 31) fail("lane %d shuffles from lane %d", l, src);
                if (!(mask & (1u << src))) fail("lane %d shuffles from lane %d, which is not in the mask 0x%08x", l, src, mask);
                warp.out[l][0] = warp.in[src][0];
                warp.out[l][1] = warp.in[src][1];
            }
            break;
        }
        case Collective::Ldmatrix:
        case Collective::LdmatrixTrans: {
            // x4: lanes 8i..8i+7 address the 8 rows (16 bytes each) of matrix i. Lane l receives
            // in register i row l/4, columns 2(l%4) and 2(l%4)+1 (transposed: those rows, column l/4).
            const bool trans = warp.kind == Collective::LdmatrixTrans;
            for (int m = 0; m < 4; m++) {  // bank accounting: one 128-byte request per matrix
                uint32_t rows[8];
                int perGroup[8] = {0}, most = 0;
                for (int r = 0; r < 8; r++) {
                    rows[r] = warp.in[8 * m + r][0] >> 4;
                    bool repeat = false;  // the same row twice is one read (a broadcast)
                    for (int q = 0; q < r; q++) repeat |= rows[q] == rows[r];
                    if (!repeat) most = std::max(most, ++perGroup[rows[r] & 7]);
                }
                w.ldmatrixRequests++;
                w.ldmatrixWavefronts += most;
            }
            for (int l = 0; l < 32; l++) {
                const int g = l >> 2, t = l & 3;
                for (int m = 0; m < 4; m++) {
                    uint16_t lo, hi;
                    if (!trans) {
                        const uint32_t row = warp.in[8 * m + g][0];
                        lo = smemHalf(w, row + 2 * (2 * t));
                        hi = smemHalf(w, row + 2 * (2 * t + 1));
                    } else {
                        lo = smemHalf(w, warp.in[8 * m + 2 * t][0] + 2 * g);
                        hi = smemHalf(w, warp.in[8 * m + 2 * t + 1][0] + 2 * g);
                    }
                    warp.out[l][m] = (uint32_t)lo | ((uint32_t)hi << 16);
                }
            }
            break;
        }
        case Collective::Mma: {
            // m16n8k16 row.col, bf16 in, f32 accumulate. Fragments (lane l, g = l/4, t = l%4):
            // A: a0 (g, 2t..2t+1) a1 (g+8, 2t..) a2 (g, 2t+8..) a3 (g+8, 2t+8..);
            // B: b0 (k 2t..2t+1, n g) b1 (k 2t+8.., n g); C, D: (g, 2t..2t+1), (g+8, 2t..2t+1).
            float A[16][16], B[16][8], C[16][8];
            for (int l = 0; l < 32; l++) {
                const int g = l >> 2, t = l & 3;
                const uint32_t* in = warp.in[l];
                const int ar[4] = {g, g + 8, g, g + 8}, ac[4] = {2 * t, 2 * t, 2 * t + 8, 2 * t + 8};
                for (int r = 0; r < 4; r++) {
                    A[ar[r]][ac[r]] = bf16ToFloat((uint16_t)(in[r] & 0xffff));
                    A[ar[r]][ac[r] + 1] = bf16ToFloat((uint16_t)(in[r] >> 16));
                }
                B[2 * t][g] = bf16ToFloat((uint16_t)(in[4] & 0xffff));
                B[2 * t + 1][g] = bf16ToFloat((uint16_t)(in[4] >> 16));
                B[2 * t + 8][g] = bf16ToFloat((uint16_t)(in[5] & 0xffff));
                B[2 * t + 9][g] = bf16ToFloat((uint16_t)(in[5] >> 16));
                memcpy(&C[g][2 * t], &in[6], 8);
                memcpy(&C[g + 8][2 * t], &in[8], 8);
            }
            // bf16 products are exact in f32 (and in double); each sum is formed in double and rounded once.
            double Ad[16][16], Bt[8][16], D[16][8];
            for (int m = 0; m < 16; m++)
                for (int k = 0; k < 16; k++) Ad[m][k] = A[m][k];
            for (int k = 0; k < 16; k++)
                for (int n = 0; n < 8; n++) Bt[n][k] = B[k][n];
            for (int m = 0; m < 16; m++)
                for (int n = 0; n < 8; n++) {
                    double s = 0;
                    for (int k = 0; k < 16; k++) s += Ad[m][k] * Bt[n][k];
                    D[m][n] = s + C[m][n];
                }
            for (int l = 0; l < 32; l++) {
                const int g = l >> 2, t = l & 3;
                const float d[4] = {(float)D[g][2 * t], (float)D[g][2 * t + 1], (float)D[g + 8][2 * t], (float)D[g + 8][2 * t + 1]};
                memcpy(warp.out[l], d, 16);
            }
            break;
        }
    }
}

}  // namespace

void warp_collective(Collective kind, unsigned mask, const uint32_t* in, int inWords, uint32_t* out, int outWords,
                     uint32_t arg) {
    Worker& w = worker();
    Fiber* f = w.current;
    Warp& warp = w.warps[f->warp];
    const unsigned me = 1u << f->lane;
    if (!(mask & me)) fail("warp collective with mask 0x%08x that leaves out the calling lane %d", mask, f->lane);
    if (mask & ~warp.present) fail("warp collective mask 0x%08x names lanes this block does not have (0x%08x)", mask, warp.present);
    if (kind != Collective::Shuffle && mask != 0xffffffffu) fail("ldmatrix and mma are .aligned: the whole warp must execute them");
    if (warp.arrived == 0) {
        warp.kind = kind;
        warp.mask = mask;
        warp.arg = arg;
    } else if (warp.kind != kind || warp.mask != mask || warp.arg != arg) {
        fail("lanes of warp %d meet different collectives (kind %d mask 0x%08x vs kind %d mask 0x%08x)", f->warp,
             (int)warp.kind, warp.mask, (int)kind, mask);
    }
    if (mask & warp.exited) fail("warp collective waits for lanes 0x%08x, which have exited", mask & warp.exited);
    memcpy(warp.in[f->lane], in, inWords * 4);
    warp.arrived |= me;
    if (warp.arrived == mask) {
        complete(w, warp);
        Fiber* lanes = &w.fibers[f->warp * 32];
        for (unsigned m = mask & ~me; m != 0; m &= m - 1) lanes[__builtin_ctz(m)].state = State::Runnable;
        warp.arrived = 0;
        warp.mask = 0;
    } else {
        f->state = State::AtCollective;
        yieldToScheduler();
    }
    memcpy(out, warp.out[f->lane], outWords * 4);
}

void* shared_site(SharedSite& site, size_t bytes, size_t align) {
    Worker& w = worker();
    if (site.block != w.blockSerial) {
        if (align < 16) align = 16;
        size_t at = (w.sharedTop + align - 1) & ~(align - 1);
        if (w.staticBytes + (at - w.sharedTop) + bytes > STATIC_SHARED_LIMIT)
            fail("static shared memory beyond %zu bytes", STATIC_SHARED_LIMIT);
        if (at + bytes > w.shared.size()) fail("static plus dynamic shared memory beyond %zu bytes", w.shared.size());
        memset(w.shared.data() + at, 0xff, bytes);
        w.staticBytes += (at - w.sharedTop) + bytes;
        w.sharedTop = at + bytes;
        site.block = w.blockSerial;
        site.offset = (uint32_t)at;
    }
    return w.shared.data() + site.offset;
}

void* dynamic_shared() {
    return worker().shared.data();
}

uint32_t shared_offset(const void* p) {
    Worker& w = worker();
    const unsigned char* b = (const unsigned char*)p;
    if (b < w.shared.data() || b >= w.shared.data() + w.shared.size()) fail("__cvta_generic_to_shared of a pointer outside shared memory");
    return (uint32_t)(b - w.shared.data());
}

namespace {

std::string trimmed(const std::string& s) {
    const size_t a = s.find_first_not_of(" \t\n\r");
    if (a == std::string::npos) return "";
    const size_t b = s.find_last_not_of(" \t\n\r;");
    return b < a ? "" : s.substr(a, b - a + 1);
}

// One statement: "mnemonic op, op, ..." (text is the whole asm statement, for messages).
Instruction parseStatement(const std::string& statement, const char* text) {
    const std::string s = trimmed(statement);
    const size_t sp = s.find_first_of(" \t\n");
    const std::string mnemonic = s.substr(0, sp);
    static const std::pair<const char*, Op> known[] = {
        {"cvt.rn.bf16x2.f32", Op::CvtBf16x2},
        {"cp.async.cg.shared.global", Op::CpAsync16},
        {"cp.async.ca.shared.global", Op::CpAsync4},
        {"cp.async.commit_group", Op::CommitGroup},
        {"cp.async.wait_group", Op::WaitGroup},
        {"cp.async.wait_all", Op::WaitAll},
        {"ldmatrix.sync.aligned.m8n8.x4.shared.b16", Op::Ldmatrix},
        {"ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16", Op::LdmatrixTrans},
        {"mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32", Op::Mma},
        {"wgmma.fence.sync.aligned", Op::WgmmaFence},
        {"wgmma.commit_group.sync.aligned", Op::WgmmaCommit},
        {"wgmma.wait_group.sync.aligned", Op::WgmmaWait},
        {"fence.proxy.async.shared::cta", Op::FenceProxyAsync},
    };
    Instruction in{};
    bool found = false;
    for (auto& k : known) {
        if (mnemonic == k.first) {
            in.op = k.second;
            found = true;
        }
    }
    // wgmma.mma_async.sync.aligned.m64nNk16.f32.bf16.bf16: N a multiple of 8 up to 256
    static const std::string wgPrefix = "wgmma.mma_async.sync.aligned.m64n", wgSuffix = "k16.f32.bf16.bf16";
    if (!found && mnemonic.size() > wgPrefix.size() + wgSuffix.size() && mnemonic.compare(0, wgPrefix.size(), wgPrefix) == 0 &&
        mnemonic.compare(mnemonic.size() - wgSuffix.size(), wgSuffix.size(), wgSuffix) == 0) {
        const std::string digits = mnemonic.substr(wgPrefix.size(), mnemonic.size() - wgPrefix.size() - wgSuffix.size());
        const int n = digits.find_first_not_of("0123456789") == std::string::npos && digits.size() <= 3 ? atoi(digits.c_str()) : 0;
        if (n < 8 || n > 256 || n % 8 != 0) fail("wgmma.mma_async shape m64n%sk16: N must be a multiple of 8 up to 256", digits.c_str());
        in.op = Op::WgmmaMma;
        in.n = n;
        found = true;
    }
    if (!found) fail("inline PTX the emulator does not know: %s", text);
    if (sp == std::string::npos) return in;
    Token t;
    int depth = 0;
    std::string word;
    auto flush = [&] {
        if (t.count == 0) {
            char* end = nullptr;
            t.constant = strtoll(word.c_str(), &end, 0);
            if (word.empty() || *end != '\0') {
                const bool identifier = !word.empty() && (isalpha((unsigned char)word[0]) || word[0] == '_');
                if (!identifier) fail("inline PTX operand '%s' the emulator cannot read: %s", word.c_str(), text);
                t.name = word;
                t.constant = 0;
            }
        } else if (!word.empty()) {
            fail("inline PTX operand mixes registers and '%s': %s", word.c_str(), text);
        }
        in.tokens.push_back(t);
        t = Token{};
        word.clear();
    };
    for (size_t i = sp + 1; i < s.size(); i++) {
        const char c = s[i];
        if (c == '{' || c == '[') depth++;
        else if (c == '}' || c == ']') depth--;
        else if (c == ',' && depth == 0) flush();
        else if (c == '%') {
            int n = 0;
            while (i + 1 < s.size() && isdigit((unsigned char)s[i + 1])) n = n * 10 + (s[++i] - '0');
            if (t.count == MAX_TOKEN_REGISTERS)
                fail("inline PTX operand with more than %d registers: %s", MAX_TOKEN_REGISTERS, text);
            t.refs.push_back(n);
            t.count++;
        } else if (c != ' ' && c != '\t' && c != '\n' && (c != ',' || depth == 0)) {
            word += c;
        }
    }
    flush();
    return in;
}

// The asm statement as wgmma.cuh writes wgmma.mma_async, a scope that turns an int into scale-d:
//   { .reg .pred p; setp.ne.b32 p, %X, 0; wgmma.mma_async.sync.aligned.m64nNk16.f32.bf16.bf16
//     {%0, .., %R-1}, %a, %b, p, 1, 1, %ta, %tb; }
Instruction parseWgmmaBlock(const std::string& s, const char* text) {
    const size_t open = s.find('{'), close = s.rfind('}');
    std::vector<std::string> statements;
    std::string current;
    int depth = 0;
    for (size_t i = open + 1; i < close; i++) {  // split at ';' outside the accumulator braces
        const char c = s[i];
        if (c == '{') depth++;
        if (c == '}') depth--;
        if (c == ';' && depth == 0) {
            if (!trimmed(current).empty()) statements.push_back(trimmed(current));
            current.clear();
        } else {
            current += c;
        }
    }
    if (!trimmed(current).empty()) statements.push_back(trimmed(current));
    auto unknown = [&] { fail("inline PTX the emulator does not know (a { } scope other than wgmma.cuh's mma_async): %s", text); };
    if (statements.size() != 3) unknown();
    // .reg .pred NAME
    char pred[64] = "", pred2[64] = "";
    int consumed = 0;
    if (sscanf(statements[0].c_str(), ".reg .pred %63[A-Za-z0-9_]%n", pred, &consumed) != 1 || statements[0][consumed] != '\0')
        unknown();
    // setp.ne.b32 NAME, %X, 0
    int source = -1;
    consumed = 0;
    if (sscanf(statements[1].c_str(), "setp.ne.b32 %63[A-Za-z0-9_] , %%%d , 0%n", pred2, &source, &consumed) != 2 ||
        statements[1][consumed] != '\0' || strcmp(pred, pred2) != 0)
        unknown();
    Instruction in = parseStatement(statements[2], text);
    if (in.op != Op::WgmmaMma) unknown();
    in.scaleDRef = source;
    const std::vector<Token>& t = in.tokens;
    if (t.size() != 8) fail("wgmma.mma_async with %zu operands, not 8 (d, a-desc, b-desc, scale-d, imm-scale-a, imm-scale-b, imm-trans-a, imm-trans-b): %s", t.size(), text);
    if (t[0].count != in.n / 2) fail("wgmma.mma_async m64n%dk16 .f32 takes %d accumulator registers, not %d: %s", in.n, in.n / 2, t[0].count, text);
    if (t[1].count != 1) fail("wgmma.mma_async: the emulator implements A from shared memory only (a 64-bit descriptor), not a register fragment: %s", text);
    if (t[2].count != 1) fail("wgmma.mma_async: b-desc must be one 64-bit register: %s", text);
    if (t[3].count != 0 || t[3].name != pred) fail("wgmma.mma_async: scale-d must be the predicate %s set just before: %s", pred, text);
    for (int i : {4, 5})
        if (t[i].count != 0 || !t[i].name.empty() || (t[i].constant != 1 && t[i].constant != -1))
            fail("wgmma.mma_async: imm-scale-a and imm-scale-b are the constants 1 or -1: %s", text);
    return in;
}

Instruction parsePtx(const char* text) {
    const std::string s = trimmed(text);
    if (!s.empty() && s[0] == '{') return parseWgmmaBlock(s, text);
    return parseStatement(s, text);
}

struct Operands {
    const Operand* ops;
    size_t count;
    const Operand& at(int n) const {
        if (n < 0 || (size_t)n >= count) fail("inline PTX names operand %%%d of %zu", n, count);
        return ops[n];
    }
    uint64_t value(const Token& t) const { return t.count == 0 ? t.constant : at(t.refs[0]).value; }
    void store(const Token& t, int i, uint64_t bits) const {
        if (i >= t.count) fail("inline PTX writes register %d of an operand with %d", i, t.count);
        const Operand& o = at(t.refs[i]);
        if (!o.ptr) fail("inline PTX writes an input operand");
        if (o.bytes == 4) {
            const uint32_t v = (uint32_t)bits;
            memcpy(o.ptr, &v, 4);
        } else {
            memcpy(o.ptr, &bits, o.bytes);
        }
    }
};

uint16_t floatToBf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fff;  // cvt.rn's canonical NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

void landCopies(Worker& w, Fiber& f, int keepGroups) {
    // Groups are numbered in commit order; all but the newest keepGroups land now.
    const int landBelow = f.committedGroups - keepGroups;
    size_t kept = 0;
    for (size_t i = 0; i < f.copies.size(); i++) {
        AsyncCopy& c = f.copies[i];
        if (c.group >= 0 && c.group < landBelow) {
            memcpy(c.dst, c.src, c.srcBytes);
            memset(c.dst + c.srcBytes, 0, c.bytes - c.srcBytes);
            markLanded(w, f, c.dst, c.bytes);
        } else {
            f.copies[kept++] = c;
        }
    }
    f.copies.resize(kept);
}

void commit(Fiber& f) {
    for (AsyncCopy& c : f.copies)
        if (c.group < 0) c.group = f.committedGroups;
    f.committedGroups++;
}

// ---- wgmma (PTX ISA, "Asynchronous Warpgroup Level Matrix Multiply-Accumulate Instructions") ----

// A shared-memory matrix descriptor ("Matrix Descriptor Format"), decoded.
struct Descriptor {
    uint32_t start, lbo, sbo;  // bytes
    int swizzle;               // the swizzle row in bytes: 128, 64, 32; 0 for none (interleaved)
};

Descriptor decodeDescriptor(uint64_t d, const char* which) {
    const uint64_t fields = 0x3fffull | (0x3fffull << 16) | (0x3fffull << 32) | (7ull << 49) | (3ull << 62);
    if (d & ~fields)
        fail("wgmma.mma_async %s-desc 0x%016llx sets bits outside the descriptor's fields (14-15, 30-31, 46-48, 52-61 "
             "are not part of the format: an encoding error)", which, (unsigned long long)d);
    const int base = (int)((d >> 49) & 7);
    if (base != 0)
        fail("wgmma.mma_async %s-desc 0x%016llx has matrix base offset %d: the emulator implements base offset 0 only "
             "(each swizzle pattern starting on its 1024/512/256-byte boundary)", which, (unsigned long long)d, base);
    static const int rowBytes[4] = {0, 128, 64, 32};
    return {(uint32_t)(d & 0x3fff) << 4, (uint32_t)((d >> 16) & 0x3fff) << 4, (uint32_t)((d >> 32) & 0x3fff) << 4,
            rowBytes[d >> 62]};
}

// The shared byte address of element (i, k) of a bf16 wgmma operand, i its M (A) or N (B) index and
// k < 16 its K index: the canonical layouts ("Canonical Layouts"; T = 8 bf16 = 16 bytes) in bytes,
// with S the swizzle row (128, 64 or 32 bytes):
//   K-major,  swizzled: (i % 8) S + (i / 8) SBO + 2 k                        (LBO unused)
//   K-major,  none:     (i % 8) 16 + (i / 8) SBO + (k % 8) 2 + (k / 8) LBO
//   MN-major, swizzled: (i % (S/2)) 2 + (i / (S/2)) LBO + (k % 8) S + (k / 8) SBO
//   MN-major, none:     (i % 8) 2 + (i / 8) SBO + (k % 8) 16 + (k / 8) LBO
// plus the start address; then the swizzle Swizzle<log2(S/16), 4, 3> of the absolute shared
// address: bits [4, 4+b) ^= bits [7, 7+b) (for 128 bytes: the 16-byte chunk ^= row % 8).
uint32_t operandAddress(const Descriptor& d, bool mnMajor, int i, int k) {
    uint32_t a;
    if (d.swizzle == 0) {
        a = mnMajor ? 2 * (i % 8) + (i / 8) * d.sbo + 16 * (k % 8) + (k / 8) * d.lbo
                    : 16 * (i % 8) + (i / 8) * d.sbo + 2 * (k % 8) + (k / 8) * d.lbo;
    } else {
        const int S = d.swizzle, perRow = S / 2;
        a = mnMajor ? 2 * (i % perRow) + (i / perRow) * d.lbo + S * (k % 8) + (k / 8) * d.sbo
                    : S * (i % 8) + (i / 8) * d.sbo + 2 * k;
    }
    a += d.start;
    if (d.swizzle) a ^= ((a >> 7) & (uint32_t)(d.swizzle / 16 - 1)) << 4;
    return a;
}

// Whether [a, a + bytes) is shared memory of this block: its dynamic bytes or a static variable's area.
bool sharedValid(const Worker& w, uint32_t a, uint32_t bytes) {
    const size_t end = (size_t)a + bytes, staticStart = (w.dynamicBytes + 127) & ~(size_t)127;
    return end <= w.dynamicBytes || (a >= staticStart && end <= w.sharedTop);
}

std::string threadName(const Worker& w, int owner) {
    const uint3 t = w.fibers[owner - 1].coords.thread;
    char b[64];
    snprintf(b, sizeof b, "thread (%u,%u,%u)", t.x, t.y, t.z);
    return b;
}

// The newest of ops[from, to) that writes register p (the r-th register of the caller's list), or
// null; *index: p's position among that op's registers.
const WgmmaOp* writerOf(const std::vector<WgmmaOp>& ops, size_t from, size_t to, const float* p, int r, int* index = nullptr) {
    const uintptr_t a = (uintptr_t)p;
    for (size_t i = to; i-- > from;) {
        const WgmmaOp& op = ops[i];
        if (a < op.lo || a > op.hi) continue;
        for (int q = r < op.regs && op.reg[r] == p ? r : 0; q < op.regs; q++) {
            if (op.reg[q] == p) {
                if (index) *index = q;
                return &op;
            }
        }
    }
    return nullptr;
}

// The accumulator inputs of a new mma_async of this thread: a register an in-flight op of the
// thread writes chains to that op's result (wgmma orders accumulator accesses of same-shape ops
// itself); any other register is taken as the thread holds it. Registers the thread changed where
// the ISA forbids it are errors.
void resolveAccumulators(Fiber& f, float* const* ptr, uint32_t* input, int regs) {
    const WgmmaWritten* written = nullptr;
    for (const WgmmaWritten& rec : f.wgmmaWritten)
        if (rec.regs == regs && memcmp(rec.reg, ptr, regs * sizeof(float*)) == 0) written = &rec;
    for (int r = 0; r < regs; r++) {
        int q = 0;
        const WgmmaOp* producer = writerOf(f.wgmma, 0, f.wgmma.size(), ptr[r], r, &q);
        if (producer) {
            if (input[r] != WGMMA_IN_FLIGHT)
                fail("accumulator register %d of wgmma.mma_async was written by the thread while an earlier "
                     "wgmma.mma_async that produces it was in flight (before the wgmma.wait_group that completes it)", r);
            input[r] = producer->result[q];
        } else if (written && written->fences == f.wgmmaFences && input[r] != written->value[r]) {
            fail("accumulator register %d of wgmma.mma_async was changed by the thread after the wgmma.wait_group "
                 "that wrote it, with no wgmma.fence since (PTX ISA: a wgmma.fence must separate a register access from "
                 "a wgmma.mma_async that accesses the same registers)", r);
        }
    }
}

// Computes one wgmma.mma_async for the whole warpgroup (run by its last thread to arrive): reads
// A and B through their descriptors, checks the proxy state of every chunk read, snapshots those
// chunks and leaves each thread's results in its newest WgmmaOp.
void runWgmma(Worker& w, WarpGroup& G, int group, const Instruction& in) {
    const WgmmaIssue& is = G.issue;
    const int n = in.n, regs = n / 2;
    const Descriptor da = decodeDescriptor(is.descA, "a"), db = decodeDescriptor(is.descB, "b");
    const double scaleA = (double)in.tokens[4].constant, scaleB = (double)in.tokens[5].constant;
    auto reads = std::make_shared<WgmmaReads>();
    std::vector<uint32_t>& chunks = reads->chunks;
    chunks.reserve(64 * 16 + 16 * n);
    static thread_local double A[64][16], Bt[256][16];
    auto element = [&](const Descriptor& d, bool mnMajor, int i, int k, const char* which) {
        const uint32_t a = operandAddress(d, mnMajor, i, k);
        if (!sharedValid(w, a, 2))
            fail("wgmma.mma_async (warpgroup %d) reads %s element (%s %d, k %d) at shared 0x%x, outside the block's "
                 "shared memory (%zu dynamic bytes, static up to 0x%zx)", group, which, which[0] == 'A' ? "m" : "n", i, k,
                 a, w.dynamicBytes, w.sharedTop);
        chunks.push_back(a >> 4);
        uint16_t v;
        memcpy(&v, w.shared.data() + a, 2);
        return (double)bf16ToFloat(v);
    };
    for (int m = 0; m < 64; m++)
        for (int k = 0; k < 16; k++) A[m][k] = scaleA * element(da, is.transA, m, k, "A");
    std::sort(chunks.begin(), chunks.end());
    chunks.erase(std::unique(chunks.begin(), chunks.end()), chunks.end());
    reads->aChunks = chunks.size();
    for (int c = 0; c < n; c++)
        for (int k = 0; k < 16; k++) Bt[c][k] = scaleB * element(db, is.transB, c, k, "B");
    std::sort(chunks.begin() + reads->aChunks, chunks.end());
    chunks.erase(std::unique(chunks.begin() + reads->aChunks, chunks.end()), chunks.end());
    // The async proxy sees cp.async data only after its landing thread's fence.proxy.async and a
    // barrier after that fence (every thread of the warpgroup issues this op after that barrier).
    for (size_t i = 0; i < chunks.size(); i++) {
        ChunkState& st = w.chunks[chunks[i]];
        if (!st.owner) continue;
        const char* which = i < reads->aChunks ? "A" : "B";
        if (!st.fenced)
            fail("wgmma.mma_async (warpgroup %d) reads %s at shared 0x%x, which %s's cp.async landed with no "
                 "fence.proxy.async.shared::cta by that thread since: the async proxy may not see it", group, which,
                 chunks[i] * 16, threadName(w, st.owner).c_str());
        if (st.epoch >= w.barrierEpoch)
            fail("wgmma.mma_async (warpgroup %d) reads %s at shared 0x%x, whose cp.async data %s proxy-fenced with no "
                 "__syncthreads between that fence and this wgmma.mma_async", group, which, chunks[i] * 16,
                 threadName(w, st.owner).c_str());
        st.owner = 0;  // fenced, and a barrier since: visible to every thread's async-proxy reads
        st.fenced = 0;
    }
    reads->bytes.resize(chunks.size() * 16);
    for (size_t i = 0; i < chunks.size(); i++) memcpy(&reads->bytes[i * 16], w.shared.data() + chunks[i] * 16, 16);
    // Until every thread has completed the op, a cp.async into these chunks is a race: the copy may
    // land before the tensor cores have read them (caught at the cp.async's issue, see inline_ptx).
    for (size_t i = 0; i < chunks.size(); i++) {
        ChunkState& st = w.chunks[chunks[i]];
        if (!st.listed) {
            st.listed = 1;
            w.touchedChunks.push_back(chunks[i]);
        }
        st.readers++;
    }
    // D fragment of m64nNk16 (lane l of warp q of the group, g = l/4, t = l%4): register 4j+2h+b
    // holds row 16q + g + 8h, column 8j + 2t + b.
    for (int rank = 0; rank < WARPGROUP_THREADS; rank++) {
        const int q = rank / 32, g = (rank % 32) / 4, t = rank % 4;
        WgmmaOp& op = w.fibers[group * WARPGROUP_THREADS + rank].wgmma.back();
        const uint32_t* c = &G.in[rank * WGMMA_MAX_REGS];
        for (int r = 0; r < regs; r++) {
            const int row = 16 * q + g + 8 * ((r >> 1) & 1), col = 8 * (r >> 2) + 2 * t + (r & 1);
            double s = 0;
            for (int k = 0; k < 16; k++) s += A[row][k] * Bt[col][k];
            if (is.scaleD) s += (double)from_bits<float>(c[r]);
            const float d = (float)s;
            memcpy(&op.result[r], &d, 4);
        }
        op.reads = reads;
    }
}

// The last thread of the warpgroup to complete an op checks that the shared memory it read is unchanged.
void checkReads(Worker& w, const WgmmaReads& r) {
    for (size_t i = 0; i < r.chunks.size(); i++) {
        if (memcmp(w.shared.data() + r.chunks[i] * 16, &r.bytes[i * 16], 16) != 0)
            fail("shared memory at 0x%x (operand %s of a wgmma.mma_async) changed while the op was in flight: it was "
                 "overwritten before every thread of the warpgroup had completed the op with wgmma.wait_group",
                 r.chunks[i] * 16, i < r.aChunks ? "A" : "B");
    }
}

// wgmma.wait_group: completes this thread's ops of every group below `below` (commit order).
void completeWgmma(Worker& w, Fiber& f, int below) {
    size_t done = 0;
    while (done < f.wgmma.size() && f.wgmma[done].group >= 0 && f.wgmma[done].group < below) done++;
    if (done == 0) return;
    for (size_t i = 0; i < done; i++) {
        const WgmmaOp& op = f.wgmma[i];
        for (int r = 0; r < op.regs; r++) {
            uint32_t now;
            memcpy(&now, op.reg[r], 4);
            if (now != WGMMA_IN_FLIGHT)
                fail("accumulator register %d of a wgmma.mma_async was written by the thread while the op was in "
                     "flight (before the wgmma.wait_group that completes it)", r);
        }
    }
    for (size_t i = 0; i < done; i++) {
        const WgmmaOp& op = f.wgmma[i];
        for (int r = 0; r < op.regs; r++)  // a register an op still in flight writes stays in flight
            if (!writerOf(f.wgmma, done, f.wgmma.size(), op.reg[r], r)) memcpy(op.reg[r], &op.result[r], 4);
        bool last = true;  // the newest op on exactly these registers: remember what it wrote
        for (size_t j = i + 1; j < f.wgmma.size() && last; j++)
            last = !(f.wgmma[j].regs == op.regs && memcmp(f.wgmma[j].reg, op.reg, op.regs * sizeof(float*)) == 0);
        if (last) {
            WgmmaWritten* rec = nullptr;
            for (WgmmaWritten& x : f.wgmmaWritten)
                if (x.regs == op.regs && x.reg[0] == op.reg[0]) rec = &x;
            if (!rec) {
                f.wgmmaWritten.emplace_back();
                rec = &f.wgmmaWritten.back();
            }
            rec->regs = op.regs;
            memcpy(rec->reg, op.reg, op.regs * sizeof(float*));
            memcpy(rec->value, op.result, op.regs * 4);
            rec->fences = f.wgmmaFences;
        }
        if (--op.reads->pending == 0) {
            checkReads(w, *op.reads);
            for (size_t i = 0; i < op.reads->chunks.size(); i++) w.chunks[op.reads->chunks[i]].readers--;
        }
    }
    f.wgmma.erase(f.wgmma.begin(), f.wgmma.begin() + done);
}

// wgmma.mma_async: a warpgroup collective. Every thread brings its accumulators and the operands
// the warpgroup must agree on; the last to arrive computes the op for all 128. The results reach
// the registers at the wgmma.wait_group that completes the op; until then they hold WGMMA_IN_FLIGHT.
void wgmmaIssue(Worker& w, Fiber& f, const Instruction& in, const Operands& ops, const char* text) {
    const std::vector<Token>& t = in.tokens;
    const int regs = in.n / 2, group = f.warp / 4, rank = (f.warp % 4) * 32 + f.lane;
    if ((unsigned)(group + 1) * WARPGROUP_THREADS > w.blockThreads)
        fail("wgmma.mma_async by warpgroup %d (threads %d..%d), but the block has %u threads: a warpgroup is 4 whole warps",
             group, group * WARPGROUP_THREADS, group * WARPGROUP_THREADS + WARPGROUP_THREADS - 1, w.blockThreads);
    if (f.wgmmaFences == 0)
        fail("wgmma.mma_async with no wgmma.fence before it in this thread (PTX ISA: wgmma.fence must precede the "
             "first wgmma.mma_async)");
    WgmmaIssue issue{text, ops.value(t[1]), ops.value(t[2]), (uint32_t)ops.at(in.scaleDRef).value != 0,
                     (uint32_t)ops.value(t[6]), (uint32_t)ops.value(t[7]), f.wgmmaFences, f.wgmmaCommitted, f.wgmma.size()};
    if (ops.value(t[6]) > 1 || ops.value(t[7]) > 1)
        fail("wgmma.mma_async imm-trans-a %llu, imm-trans-b %llu: each is 0 or 1", (unsigned long long)ops.value(t[6]),
             (unsigned long long)ops.value(t[7]));
    float* ptr[WGMMA_MAX_REGS];
    uint32_t input[WGMMA_MAX_REGS];
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int r = 0; r < regs; r++) {
        const Operand& o = ops.at(t[0].refs[r]);
        if (!o.ptr || o.bytes != 4) fail("wgmma.mma_async accumulator %d is not a 32-bit \"+f\" operand", r);
        ptr[r] = (float*)o.ptr;
        input[r] = (uint32_t)o.value;
        lo = std::min(lo, (uintptr_t)o.ptr);
        hi = std::max(hi, (uintptr_t)o.ptr);
    }
    resolveAccumulators(f, ptr, input, regs);

    WarpGroup& G = w.groups[group];
    for (int q = 0; q < 4; q++)
        if (w.warps[group * 4 + q].exited)
            fail("wgmma.mma_async waits for threads of warpgroup %d that have exited (warp %d lanes 0x%08x)", group,
                 group * 4 + q, w.warps[group * 4 + q].exited);
    if (G.arrived == 0) {
        G.issue = issue;
    } else {
        const WgmmaIssue& a = G.issue;
        if (a.text != issue.text) fail("threads of warpgroup %d meet different wgmma.mma_async instructions", group);
        if (a.descA != issue.descA || a.descB != issue.descB)
            fail("threads of warpgroup %d disagree on the descriptors of wgmma.mma_async (a-desc 0x%llx vs 0x%llx, b-desc "
                 "0x%llx vs 0x%llx): they must be the same across the warpgroup", group, (unsigned long long)a.descA,
                 (unsigned long long)issue.descA, (unsigned long long)a.descB, (unsigned long long)issue.descB);
        if (a.scaleD != issue.scaleD) fail("threads of warpgroup %d disagree on scale-d of wgmma.mma_async", group);
        if (a.transA != issue.transA || a.transB != issue.transB)
            fail("threads of warpgroup %d disagree on imm-trans of wgmma.mma_async", group);
        if (a.fences != issue.fences || a.committed != issue.committed || a.inFlight != issue.inFlight)
            fail("threads of warpgroup %d reach wgmma.mma_async after different numbers of wgmma.fence (%llu vs %llu), "
                 "wgmma.commit_group (%d vs %d) or with different ops in flight (%zu vs %zu): those instructions are "
                 ".aligned, every thread of the warpgroup runs each of them", group, (unsigned long long)a.fences,
                 (unsigned long long)issue.fences, a.committed, issue.committed, a.inFlight, issue.inFlight);
    }
    if (G.in.size() < (size_t)WARPGROUP_THREADS * WGMMA_MAX_REGS) G.in.resize((size_t)WARPGROUP_THREADS * WGMMA_MAX_REGS);
    memcpy(&G.in[rank * WGMMA_MAX_REGS], input, regs * 4);
    f.wgmma.emplace_back();
    WgmmaOp& op = f.wgmma.back();
    op.regs = regs;
    op.lo = lo;
    op.hi = hi;
    memcpy(op.reg, ptr, regs * sizeof(float*));
    for (int r = 0; r < regs; r++) memcpy(ptr[r], &WGMMA_IN_FLIGHT, 4);
    if (++G.arrived == WARPGROUP_THREADS) {
        runWgmma(w, G, group, in);
        G.arrived = 0;
        for (int i = 0; i < WARPGROUP_THREADS; i++) {
            Fiber& other = w.fibers[group * WARPGROUP_THREADS + i];
            if (&other != &f && other.state == State::AtCollective) other.state = State::Runnable;
        }
    } else {
        f.state = State::AtCollective;
        yieldToScheduler();
    }
}

}  // namespace

void inline_ptx(const char* text, std::initializer_list<Operand> operands) {
    Worker& w = worker();
    Fiber& f = *w.current;
    // A direct-mapped cache in front of the map: asm texts are string literals, one address each.
    const size_t slot = ((uintptr_t)text >> 3) & 63;
    if (w.recentText[slot] != text) {
        auto cached = w.ptxCache.find(text);
        if (cached == w.ptxCache.end()) cached = w.ptxCache.emplace(text, parsePtx(text)).first;
        w.recentText[slot] = text;
        w.recent[slot] = &cached->second;
    }
    const Instruction& in = *w.recent[slot];
    const std::vector<Token>& t = in.tokens;
    const Operands ops{operands.begin(), operands.size()};
    auto need = [&](size_t n) {
        if (t.size() < n) fail("inline PTX with %zu operands where %zu are needed: %s", t.size(), n, text);
    };

    switch (in.op) {
        case Op::CvtBf16x2: {  // d = {cvt(a) high, cvt(b) low}
            need(3);
            const float a = from_bits<float>(ops.value(t[1])), b = from_bits<float>(ops.value(t[2]));
            ops.store(t[0], 0, (uint32_t)floatToBf16(b) | ((uint32_t)floatToBf16(a) << 16));
            break;
        }
        case Op::CpAsync16:
        case Op::CpAsync4: {
            need(3);
            const uint32_t dst = (uint32_t)ops.value(t[0]);
            const unsigned char* src = (const unsigned char*)(uintptr_t)ops.value(t[1]);
            const int bytes = (int)ops.value(t[2]), srcBytes = t.size() > 3 ? (int)ops.value(t[3]) : bytes;
            if (in.op == Op::CpAsync16 && bytes != 16) fail("cp.async.cg copies 16 bytes, not %d", bytes);
            if (bytes != 4 && bytes != 8 && bytes != 16) fail("cp.async of %d bytes", bytes);
            if (srcBytes < 0 || srcBytes > bytes) fail("cp.async src-size %d outside [0, %d]", srcBytes, bytes);
            if (dst % bytes != 0 || (srcBytes > 0 && (uintptr_t)src % bytes != 0))
                fail("cp.async of %d bytes from a misaligned address (shared 0x%x, global %p)", bytes, dst, (const void*)src);
            if ((size_t)dst + bytes > w.shared.size()) fail("cp.async to shared 0x%x outside the block's shared memory", dst);
            for (uint32_t c = dst >> 4; c <= (dst + bytes - 1) >> 4; c++) {
                if (w.chunks[c].readers)
                    fail("cp.async into shared 0x%x, which a wgmma.mma_async in flight reads: the copy may land before the "
                         "tensor cores read it (complete the op with wgmma.wait_group in every thread of its warpgroup, "
                         "then a barrier, before refilling its tile)", dst);
            }
            f.copies.push_back({w.shared.data() + dst, src, bytes, srcBytes, -1});
            Warp& warp = w.warps[f.warp];
            const size_t k = f.copiesIssued++ - warp.copyBase;
            while (warp.copyGroups.size() <= k) warp.copyGroups.emplace_back();
            CopyGroup& g = warp.copyGroups[k];
            g.lanes |= 1u << f.lane;
            g.src[f.lane] = (uint64_t)(uintptr_t)src;
            g.bytes[f.lane] = srcBytes;
            while (!warp.copyGroups.empty() && warp.copyGroups.front().lanes == warp.present) {
                w.account(warp.copyGroups.front());
                warp.copyGroups.pop_front();
                warp.copyBase++;
            }
            break;
        }
        case Op::CommitGroup:
            commit(f);
            break;
        case Op::WaitGroup:
            need(1);
            landCopies(w, f, (int)ops.value(t[0]));
            break;
        case Op::WaitAll:
            commit(f);
            landCopies(w, f, 0);
            break;
        case Op::Ldmatrix:
        case Op::LdmatrixTrans: {
            need(2);
            uint32_t address = (uint32_t)ops.value(t[1]), r[4];
            if (address % 16 != 0) fail("ldmatrix row address 0x%x is not 16-byte aligned", address);
            warp_collective(in.op == Op::LdmatrixTrans ? Collective::LdmatrixTrans : Collective::Ldmatrix, 0xffffffffu,
                            &address, 1, r, 4, 0);
            for (int i = 0; i < 4; i++) ops.store(t[0], i, r[i]);
            break;
        }
        case Op::Mma: {
            need(4);
            if (t[0].count != 4 || t[1].count != 4 || t[2].count != 2 || t[3].count != 4) fail("mma.m16n8k16 operand shapes: %s", text);
            uint32_t regs[10], r[4];
            for (int i = 0; i < 4; i++) regs[i] = (uint32_t)ops.at(t[1].refs[i]).value;
            for (int i = 0; i < 2; i++) regs[4 + i] = (uint32_t)ops.at(t[2].refs[i]).value;
            for (int i = 0; i < 4; i++) regs[6 + i] = (uint32_t)ops.at(t[3].refs[i]).value;
            warp_collective(Collective::Mma, 0xffffffffu, regs, 10, r, 4, 0);
            for (int i = 0; i < 4; i++) ops.store(t[0], i, r[i]);
            break;
        }
        case Op::WgmmaFence:
            f.wgmmaFences++;
            break;
        case Op::WgmmaCommit:
            for (WgmmaOp& op : f.wgmma)
                if (op.group < 0) op.group = f.wgmmaCommitted;
            f.wgmmaCommitted++;
            break;
        case Op::WgmmaWait: {
            need(1);
            const int64_t keep = (int64_t)ops.value(t[0]);
            if (keep < 0) fail("wgmma.wait_group %lld", (long long)keep);
            completeWgmma(w, f, (int)(f.wgmmaCommitted - std::min<int64_t>(keep, f.wgmmaCommitted)));
            break;
        }
        case Op::FenceProxyAsync: {
            const uint16_t me = (uint16_t)(&f - w.fibers.data() + 1);
            for (uint32_t c : f.unfencedChunks) {
                ChunkState& st = w.chunks[c];
                if (st.owner == me && !st.fenced) {
                    st.fenced = 1;
                    st.epoch = w.barrierEpoch;
                }
            }
            f.unfencedChunks.clear();
            break;
        }
        case Op::WgmmaMma:
            wgmmaIssue(w, f, in, ops, text);
            break;
    }
}

AccessStats access_stats() {
    return {totalLdmatrixRequests.load(), totalLdmatrixWavefronts.load(), totalCopyInstructions.load(),
            totalCopySectors.load(), totalCopyIdealSectors.load()};
}

void reset_access_stats() {
    totalLdmatrixRequests = 0;
    totalLdmatrixWavefronts = 0;
    totalCopyInstructions = 0;
    totalCopySectors = 0;
    totalCopyIdealSectors = 0;
}

Registrar::Registrar(const char* name, Trampoline call, int count, const size_t* sizes) {
    std::lock_guard<std::mutex> lock(registryMutex);
    registry()[name] = KernelInfo{name, call, count, sizes};
}

const KernelInfo* find_kernel(const char* name) {
    std::lock_guard<std::mutex> lock(registryMutex);
    auto it = registry().find(name);
    return it == registry().end() ? nullptr : &it->second;
}

namespace {

// ELECTRA_CUDA_EMU_PROFILE=1: host time and launches per kernel, printed to stderr at exit.
struct Profile {
    std::mutex mutex;
    std::unordered_map<std::string, std::pair<double, long>> byKernel;
    std::unordered_map<std::string, std::pair<uint64_t, uint64_t>> banks;    // ldmatrix requests, wavefronts
    std::unordered_map<std::string, std::pair<uint64_t, uint64_t>> sectors;  // cp.async ideal, touched
    const bool on = getenv("ELECTRA_CUDA_EMU_PROFILE") != nullptr;

    ~Profile() {
        if (!on) return;
        std::vector<std::pair<std::string, std::pair<double, long>>> rows(byKernel.begin(), byKernel.end());
        std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.second.first > b.second.first; });
        for (auto& r : rows) {
            auto b = banks[r.first];
            auto c = sectors[r.first];
            char extra[160] = "";
            int n = 0;
            if (b.first) n += snprintf(extra + n, sizeof extra - n, "  ldmatrix %.3f wavefronts per request", (double)b.second / b.first);
            if (c.first) snprintf(extra + n, sizeof extra - n, "  cp.async %.3f sectors per ideal one", (double)c.second / c.first);
            fprintf(stderr, "cuda-emu profile %10.3f s %8ld launches  %s%s\n", r.second.first, r.second.second, r.first.c_str(), extra);
        }
    }
};
Profile profile;

}  // namespace

const char* launch(const KernelInfo* kernel, Dim3 grid, Dim3 block, unsigned dynamicSmem, void* const* params) {
    const auto started = std::chrono::steady_clock::now();
    struct Record {
        const char* name;
        std::chrono::steady_clock::time_point started;
        ~Record() {
            if (!profile.on) return;
            double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            std::lock_guard<std::mutex> lock(profile.mutex);
            auto& row = profile.byKernel[name];
            row.first += s;
            row.second++;
        }
    } record{kernel->name, started};
    static std::mutex launchMutex;
    static std::vector<Worker*> workers;
    static thread_local std::string message;
    std::lock_guard<std::mutex> lock(launchMutex);
    const uint64_t threads = (uint64_t)block.x * block.y * block.z;
    const uint64_t blocks = (uint64_t)grid.x * grid.y * grid.z;
    char b[300];
    if (threads == 0 || threads > MAX_THREADS_PER_BLOCK || blocks == 0 || grid.y > 65535 || grid.z > 65535 ||
        block.z > 64) {
        snprintf(b, sizeof b, "%s: bad launch configuration grid (%u,%u,%u) block (%u,%u,%u)", kernel->name, grid.x,
                 grid.y, grid.z, block.x, block.y, block.z);
        return (message = b).c_str();
    }
    if (dynamicSmem > MAX_SHARED_PER_BLOCK) {
        snprintf(b, sizeof b, "%s: %u bytes of dynamic shared memory (at most %u)", kernel->name, dynamicSmem,
                 MAX_SHARED_PER_BLOCK);
        return (message = b).c_str();
    }
    static const unsigned cores = [] {
        const char* env = getenv("ELECTRA_CUDA_EMU_THREADS");
        unsigned c = env ? (unsigned)atoi(env) : std::thread::hardware_concurrency();
        return c == 0 ? 1u : c;
    }();
    const unsigned count = (unsigned)std::min<uint64_t>(cores, blocks);
    while (workers.size() < count) workers.push_back(new Worker());
    const Launch L{kernel, grid, block, dynamicSmem, params};
    std::atomic<uint64_t> next{0};
    std::atomic<bool> failed{false};
    auto work = [&](Worker* w) {
        tlsWorker = w;
        if (w->signalStack.empty()) w->signalStack.resize(SIGNAL_STACK_BYTES);
        stack_t alternate{};
        alternate.ss_sp = w->signalStack.data();
        alternate.ss_size = w->signalStack.size();
        sigaltstack(&alternate, nullptr);  // this host thread's, for the launch
        w->launch = &L;
        w->error.clear();
        w->ldmatrixRequests = w->ldmatrixWavefronts = 0;
        w->copyInstructions = w->copySectors = w->copyIdealSectors = 0;
        w->ensureStacks(threads);
        if (w->fibers.size() < threads) w->fibers.resize(threads);
        w->shared.resize(MAX_SHARED_PER_BLOCK);
        for (uint64_t i; !failed.load() && (i = next.fetch_add(1)) < blocks;) {
            Dim3 idx{(unsigned)(i % grid.x), (unsigned)((i / grid.x) % grid.y), (unsigned)(i / ((uint64_t)grid.x * grid.y))};
            runBlock(*w, L, idx);
            if (!w->error.empty()) failed = true;
        }
        tlsWorker = nullptr;
    };
    // Fibers run on threads of our own, never on the caller's (a JVM thread).
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < count; i++) pool.emplace_back(work, workers[i]);
    for (std::thread& t : pool) t.join();
    uint64_t requests = 0, wavefronts = 0, ideal = 0, touched = 0;
    for (unsigned i = 0; i < count; i++) {
        requests += workers[i]->ldmatrixRequests;
        wavefronts += workers[i]->ldmatrixWavefronts;
        ideal += workers[i]->copyIdealSectors;
        touched += workers[i]->copySectors;
    }
    totalLdmatrixRequests += requests;
    totalLdmatrixWavefronts += wavefronts;
    for (unsigned i = 0; i < count; i++) {
        totalCopyInstructions += workers[i]->copyInstructions;
        totalCopySectors += workers[i]->copySectors;
        totalCopyIdealSectors += workers[i]->copyIdealSectors;
    }
    if (profile.on && (requests || ideal)) {
        std::lock_guard<std::mutex> lock(profile.mutex);
        auto& b = profile.banks[kernel->name];
        b.first += requests;
        b.second += wavefronts;
        auto& c = profile.sectors[kernel->name];
        c.first += ideal;
        c.second += touched;
    }
    for (unsigned i = 0; i < count; i++) {
        if (!workers[i]->error.empty()) {
            message = std::string(kernel->name) + ": " + workers[i]->error;
            return message.c_str();
        }
    }
    return nullptr;
}

// ---- faults: an invalid access by a kernel thread fails its launch ----

namespace {

AddressDescriber addressDescriber = nullptr;
struct sigaction previousSegv, previousBus;

// Runs on the faulting thread (on a worker, on its signal stack). A fault while a fiber runs is a
// kernel thread's (or the runtime's on its behalf): the fiber is abandoned as faulted and the
// worker's scheduler takes over, so the launch fails with the message. Anything else goes to the
// handler that was there before.
void onFault(int sig, siginfo_t* info, void* context) {
    Worker* w = tlsWorker;
    if (w != nullptr && w->current != nullptr && tlsInFiber) {
        const ucontext_t* uc = static_cast<const ucontext_t*>(context);
        const uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
        const uintptr_t address = (uintptr_t)info->si_addr;
        const bool write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;  // the page fault's error code: bit 1 = write
        char what[320] = "";
        const char* onGpu = "on a GPU: CUDA_ERROR_ILLEGAL_ADDRESS";
        // the fiber's slot: its guard page, then its stack (which grows down towards the guard)
        const uintptr_t guard = (uintptr_t)w->stacks + (size_t)(w->current - w->fibers.data()) * (STACK_BYTES + GUARD_BYTES);
        if (sp < guard + GUARD_BYTES || (address >= guard && address < guard + GUARD_BYTES)) {
            snprintf(what, sizeof what, ": it overflowed its %zu KiB fiber stack", STACK_BYTES / 1024);
            onGpu = "an emulator limit: a GPU keeps such locals in local memory";
        } else if (address == 0 && sig == SIGSEGV && info->si_code == SI_KERNEL) {
            snprintf(what, sizeof what, ": a general-protection fault (a misaligned vector access?)");
        } else if (addressDescriber != nullptr) {
            addressDescriber(address, what, sizeof what);
        }
        char b[480];
        snprintf(b, sizeof b, " made an invalid %s at 0x%llx%s (%s)", write ? "write" : "read", (unsigned long long)address,
                 what, onGpu);
        sigset_t unblock;  // the fiber never returns from this handler, so the signal must not stay blocked
        sigemptyset(&unblock);
        sigaddset(&unblock, sig);
        pthread_sigmask(SIG_UNBLOCK, &unblock, nullptr);
        faultCurrent(where() + b);
    }
    const struct sigaction& before = sig == SIGBUS ? previousBus : previousSegv;
    if (before.sa_flags & SA_SIGINFO) {
        before.sa_sigaction(sig, info, context);
    } else if (before.sa_handler == SIG_DFL || before.sa_handler == SIG_IGN) {
        signal(sig, SIG_DFL);  // the faulting instruction runs again and the default action ends the process
    } else {
        before.sa_handler(sig);
    }
}

}  // namespace

void catch_kernel_faults(AddressDescriber describe) {
    static std::once_flag once;
    addressDescriber = describe;
    std::call_once(once, [] {
        for (int sig : {SIGSEGV, SIGBUS}) {
            struct sigaction& before = sig == SIGBUS ? previousBus : previousSegv;
            sigaction(sig, nullptr, &before);
            struct sigaction mine = before;  // keep the flags and mask the process chose (SA_ONSTACK, ...)
            mine.sa_flags |= SA_SIGINFO | SA_ONSTACK;  // on a worker's signal stack; a thread without one uses its own
            mine.sa_flags &= ~SA_RESETHAND;
            mine.sa_sigaction = onFault;
            sigaction(sig, &mine, nullptr);
        }
    });
}

}  // namespace emu
