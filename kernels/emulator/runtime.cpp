// runtime.cpp: the emulated device. A launch runs its blocks on a few host threads (workers);
// a worker runs one block at a time, each CUDA thread of it a fiber with its own stack. A fiber
// runs until it waits (at __syncthreads, at a warp collective) or ends; the worker then resumes
// the next runnable fiber. Running every thread as far as it can before the next one starts is
// the harshest legal schedule for a missing barrier: a thread reads shared memory its
// neighbours have not written yet, or overwrites what they have not read yet.
//
// Warp collectives (shuffles, ldmatrix, mma) are computed by the last lane of the mask to
// arrive, for every lane at once, so each is one indivisible warp-wide step as on the hardware.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
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
constexpr size_t STATIC_SHARED_LIMIT = 48 * 1024;
constexpr int MAX_IN_WORDS = 16, MAX_OUT_WORDS = 4;

enum class State { Runnable, AtBarrier, AtCollective, Done, Faulted };

// One asm statement, parsed once: its instruction and, per top-level operand ("%3", "{%0, %1}",
// "[%4]", "16"), the asm operands it names or its constant.
enum class Op { CvtBf16x2, CpAsync16, CpAsync4, CommitGroup, WaitGroup, WaitAll, Ldmatrix, LdmatrixTrans, Mma };

struct Token {
    int refs[4];
    int count = 0;  // 0: a constant
    uint64_t constant = 0;
};

struct Instruction {
    Op op;
    std::vector<Token> tokens;  // the operands after the mnemonic
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
    unsigned char* stacks = nullptr;
    size_t stackCount = 0;
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
}

// A fiber starts here (its stack is prepared to "return" into it) and never returns.
void fiberMain() {
    Worker& w = worker();
    Fiber* f = w.current;
    w.launch->kernel->call(w.launch->params);
    if (!f->copies.empty()) {
        // A thread may end with copies in flight only if nothing reads them; they still land.
        for (AsyncCopy& c : f->copies) {
            memcpy(c.dst, c.src, c.srcBytes);
            memset(c.dst + c.srcBytes, 0, c.bytes - c.srcBytes);
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
            emu_switch_stack(&w.schedulerSp, f.sp);
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
                     "deadlock in block (%u,%u,%u): %d threads wait at __syncthreads, %d at a warp collective, %d "
                     "have exited",
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

Instruction parsePtx(const char* text) {
    std::string s(text);
    while (!s.empty() && (s.back() == '\n' || s.back() == ';' || s.back() == ' ')) s.pop_back();
    const size_t sp = s.find_first_of(" \t");
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
    };
    Instruction in{};
    bool found = false;
    for (auto& k : known) {
        if (mnemonic == k.first) {
            in.op = k.second;
            found = true;
        }
    }
    if (!found) fail("inline PTX the emulator does not know: %s", text);
    if (sp == std::string::npos) return in;
    Token t;
    int depth = 0;
    std::string digits;
    auto flush = [&] {
        if (t.count == 0) t.constant = strtoull(digits.c_str(), nullptr, 0);
        in.tokens.push_back(t);
        t = Token{};
        digits.clear();
    };
    for (size_t i = sp + 1; i < s.size(); i++) {
        const char c = s[i];
        if (c == '{' || c == '[') depth++;
        else if (c == '}' || c == ']') depth--;
        else if (c == ',' && depth == 0) flush();
        else if (c == '%') {
            int n = 0;
            while (i + 1 < s.size() && isdigit((unsigned char)s[i + 1])) n = n * 10 + (s[++i] - '0');
            if (t.count == 4) fail("inline PTX operand with more than 4 registers: %s", text);
            t.refs[t.count++] = n;
        } else if (c != ' ' && c != '\t' && c != '\n') {
            digits += c;
        }
    }
    flush();
    return in;
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

void landCopies(Fiber& f, int keepGroups) {
    // Groups are numbered in commit order; all but the newest keepGroups land now.
    const int landBelow = f.committedGroups - keepGroups;
    size_t kept = 0;
    for (size_t i = 0; i < f.copies.size(); i++) {
        AsyncCopy& c = f.copies[i];
        if (c.group >= 0 && c.group < landBelow) {
            memcpy(c.dst, c.src, c.srcBytes);
            memset(c.dst + c.srcBytes, 0, c.bytes - c.srcBytes);
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
            landCopies(f, (int)ops.value(t[0]));
            break;
        case Op::WaitAll:
            commit(f);
            landCopies(f, 0);
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

}  // namespace emu
