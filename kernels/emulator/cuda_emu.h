// cuda_emu.h: what a kernel family needs to compile for the host, force-included into each
// translated .cu (translate.py). CUDA's built-in variables, qualifiers and intrinsics become
// calls into runtime.cpp, which runs each CUDA thread as a fiber.
//
// Strictness is the point: warp collectives require every lane of their mask to arrive, a
// barrier that some threads never reach is a deadlock reported by name, shared memory starts
// as NaN bytes, and cp.async copies land only at cp.async.wait_group, so a kernel that reads a
// tile before waiting, or another thread's data before __syncthreads, sees the wrong values.
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <type_traits>
#include <utility>

#include "emu_runtime.h"

// CUDA's vector types, with its alignments (a misaligned float4 access faults on the GPU).
struct uint3 {
    unsigned x, y, z;
};
typedef uint3 dim3;
struct __attribute__((aligned(8))) uint2 {
    unsigned x, y;
};
struct __attribute__((aligned(16))) uint4 {
    unsigned x, y, z, w;
};
struct __attribute__((aligned(8))) int2 {
    int x, y;
};
struct __attribute__((aligned(16))) int4 {
    int x, y, z, w;
};
struct __attribute__((aligned(8))) float2 {
    float x, y;
};
struct __attribute__((aligned(16))) float4 {
    float x, y, z, w;
};
inline uint2 make_uint2(unsigned x, unsigned y) {
    return {x, y};
}
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) {
    return {x, y, z, w};
}
inline int2 make_int2(int x, int y) {
    return {x, y};
}
inline int4 make_int4(int x, int y, int z, int w) {
    return {x, y, z, w};
}
inline float2 make_float2(float x, float y) {
    return {x, y};
}
inline float4 make_float4(float x, float y, float z, float w) {
    return {x, y, z, w};
}

namespace emu {

// Where the running fiber is: its thread index and its block's coordinates.
struct ThreadCoords {
    uint3 thread, block, blockSize, gridSize;
};
ThreadCoords& coords();

void syncthreads();
// A warp collective: every lane of mask contributes `words` 32-bit words and receives its own
// result words back. kind tells the lanes' operations apart (they must agree).
enum class Collective { Shuffle, Ldmatrix, LdmatrixTrans, Mma };
void warp_collective(Collective kind, unsigned mask, const uint32_t* in, int inWords, uint32_t* out, int outWords,
                     uint32_t arg);

// Shared memory: a declaration site's storage in the running block (allocated on the first
// thread that reaches it, the same address for every other thread of the block).
struct SharedSite {
    uint64_t block = ~0ull;
    uint32_t offset = 0;
};
void* shared_site(SharedSite& site, size_t bytes, size_t align);
void* dynamic_shared();
uint32_t shared_offset(const void* p);

// Inline PTX: the operands of one asm statement, in its %N order.
struct Operand {
    void* ptr;       // outputs (and "+" operands): where the result goes
    uint64_t value;  // inputs: the bits
    int bytes;
};
template <class T>
Operand out(T& x) {  // "=": written only
    static_assert(sizeof(T) <= 8, "asm operand wider than 64 bits");
    return Operand{&x, 0, (int)sizeof(T)};
}
template <class T>
Operand inout(T& x) {  // "+": read, then written
    Operand o = out(x);
    memcpy(&o.value, &x, sizeof(T));
    return o;
}
template <class T>
Operand in(const T& x) {
    static_assert(sizeof(T) <= 8, "asm operand wider than 64 bits");
    Operand o{nullptr, 0, (int)sizeof(T)};
    memcpy(&o.value, &x, sizeof(T));
    return o;
}
void inline_ptx(const char* text, std::initializer_list<Operand> operands);

[[noreturn]] void fail(const char* fmt, ...);

template <class T>
uint64_t bits_of(T v) {
    uint64_t b = 0;
    memcpy(&b, &v, sizeof(T));
    return b;
}
template <class T>
T from_bits(uint64_t b) {
    T v;
    memcpy(&v, &b, sizeof(T));
    return v;
}

// mode: 0 idx (shfl), 1 up, 2 down, 3 xor; arg is the lane, delta or lane mask; width as in CUDA.
template <class T>
T shuffle(unsigned mask, T v, int mode, int arg, int width) {
    static_assert(sizeof(T) <= 8, "shuffle of a type wider than 64 bits");
    uint64_t b = bits_of(v);
    uint32_t in[3] = {(uint32_t)b, (uint32_t)(b >> 32), (uint32_t)arg}, res[2];
    warp_collective(Collective::Shuffle, mask, in, 3, res, 2, (uint32_t)mode | ((uint32_t)width << 16));
    return from_bits<T>((uint64_t)res[0] | ((uint64_t)res[1] << 32));
}

// Registers every kernel with the driver under its entry name (translate.py appends one line per
// .entry of the family's committed PTX, so the two cannot drift apart silently).
struct Registrar {
    Registrar(const char* name, Trampoline call, int count, const size_t* sizes);
};
template <class... A, size_t... I>
void invoke(void (*f)(A...), void* const* params, std::index_sequence<I...>) {
    f(*static_cast<std::remove_reference_t<A>*>(params[I])...);
}
template <class... A>
constexpr int param_count(void (*)(A...)) {
    return (int)sizeof...(A);
}
template <class... A>
const size_t* param_sizes(void (*)(A...)) {
    static const size_t sizes[] = {sizeof(A)..., 0};
    return sizes;
}
template <auto F>
void trampoline(void* const* params) {
    invoke(F, params, std::make_index_sequence<param_count(F)>{});
}

}  // namespace emu

#define EMU_REGISTER(NAME) \
    static emu::Registrar emu_registrar_##NAME(#NAME, &emu::trampoline<&NAME>, emu::param_count(&NAME), emu::param_sizes(&NAME));

// Shared declarations (translate.py rewrites `__shared__ T name[..];` into this).
#define EMU_SHARED(T, NAME, DIMS, ALIGN)                \
    static thread_local emu::SharedSite NAME##_site_; \
    auto& NAME = *reinterpret_cast<T(*) DIMS>(emu::shared_site(NAME##_site_, sizeof(T DIMS), ALIGN))
#define EMU_DYNAMIC_SHARED(T, NAME) T* NAME = reinterpret_cast<T*>(emu::dynamic_shared())

// Qualifiers.
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __grid_constant__
#define __align__(n) __attribute__((aligned(n)))

// Built-in variables.
#define threadIdx (emu::coords().thread)
#define blockIdx (emu::coords().block)
#define blockDim (emu::coords().blockSize)
#define gridDim (emu::coords().gridSize)
constexpr int warpSize = 32;

inline void __syncthreads() {
    emu::syncthreads();
}

template <class T>
T __shfl_sync(unsigned mask, T v, int lane, int width = 32) {
    return emu::shuffle(mask, v, 0, lane, width);
}
template <class T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    return emu::shuffle(mask, v, 1, (int)delta, width);
}
template <class T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    return emu::shuffle(mask, v, 2, (int)delta, width);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T v, int laneMask, int width = 32) {
    return emu::shuffle(mask, v, 3, laneMask, width);
}

// Atomics: blocks of one launch run on several host threads.
inline unsigned atomicOr(unsigned* p, unsigned v) {
    return __atomic_fetch_or(p, v, __ATOMIC_RELAXED);
}
inline int atomicAdd(int* p, int v) {
    return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}
inline unsigned atomicAdd(unsigned* p, unsigned v) {
    return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}
inline float atomicAdd(float* p, float v) {
    float old = *p, want;
    do {
        want = old + v;
    } while (!__atomic_compare_exchange(p, &old, &want, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return old;
}

// Intrinsics.
inline float __uint_as_float(unsigned u) {
    return emu::from_bits<float>(u);
}
inline unsigned __float_as_uint(float f) {
    return (unsigned)emu::bits_of(f);
}
inline float __int_as_float(int i) {
    return emu::from_bits<float>((uint32_t)i);
}
inline int __float_as_int(float f) {
    return (int)(uint32_t)emu::bits_of(f);
}
inline unsigned __umulhi(unsigned a, unsigned b) {
    return (unsigned)(((uint64_t)a * b) >> 32);
}
inline size_t __cvta_generic_to_shared(const void* p) {
    return emu::shared_offset(p);
}
inline float rsqrtf(float x) {
    return 1.0f / sqrtf(x);
}
inline float __expf(float x) {
    return expf(x);
}
inline float __logf(float x) {
    return logf(x);
}
// A product or sum rounded on its own, never contracted into an fma (nor is it here: ISO C++ modes
// such as -std=c++17 keep g++'s fp-contract off).
inline float __fmul_rn(float a, float b) {
    return a * b;
}
inline float __fadd_rn(float a, float b) {
    return a + b;
}
inline float __fdividef(float a, float b) {
    return a / b;
}
inline float __saturatef(float x) {
    return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x);
}
// CUDA's integer min/max overloads for device code.
inline int min(int a, int b) {
    return a < b ? a : b;
}
inline int max(int a, int b) {
    return a > b ? a : b;
}
inline unsigned min(unsigned a, unsigned b) {
    return a < b ? a : b;
}
inline unsigned max(unsigned a, unsigned b) {
    return a > b ? a : b;
}
inline long long min(long long a, long long b) {
    return a < b ? a : b;
}
inline long long max(long long a, long long b) {
    return a > b ? a : b;
}
inline float min(float a, float b) {
    return fminf(a, b);
}
inline float max(float a, float b) {
    return fmaxf(a, b);
}
