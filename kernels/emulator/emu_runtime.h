// emu_runtime.h: the contract between the emulated driver (driver_*.cpp) and the emulated device
// (runtime.cpp plus every kernel family compiled for the host by build.sh).
//
// The emulator runs our CUDA C kernels on the CPU so the CUDA backend and its gpu tests can run
// where there is no GPU. Each CUDA thread of a block is a fiber; blocks run one after another.
// It checks the CUDA C (indexing, barriers, warp collectives, the tensor-core fragment layouts),
// not the PTX or the hardware: a kernel is verified only on a real GPU (kernels/verified.json).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace emu {

struct Dim3 {
    unsigned x, y, z;
};

// Calls the kernel with its arguments unpacked from params (one pointer per parameter, as
// cuLaunchKernel's kernelParams) on the calling emulated thread.
using Trampoline = void (*)(void* const* params);

struct KernelInfo {
    const char* name;
    Trampoline call;
    int paramCount;
    const size_t* paramSizes;  // bytes of each parameter, to copy the values a graph captures
};

// The kernel compiled into this library under that entry name, or nullptr.
const KernelInfo* find_kernel(const char* name);

// Runs the whole grid to completion before returning. dynamicSmem bytes of dynamic shared
// memory. Returns nullptr, or a message (valid until the next launch on this thread) naming the
// kernel and what went wrong: a bad configuration, a barrier some threads never reach (deadlock),
// a warp collective with lanes missing, an unknown inline-PTX instruction.
const char* launch(const KernelInfo* kernel, Dim3 grid, Dim3 block, unsigned dynamicSmem, void* const* params);

// Faults: a kernel thread's invalid memory access (a guard page beside a device allocation, a
// freed or wild pointer) ends its launch with launch's message instead of killing the process, as
// a GPU ends the kernel with CUDA_ERROR_ILLEGAL_ADDRESS. The handler is installed once, in front of
// the process's own (a JVM's), which still gets every fault outside a kernel thread. `describe`
// writes what the faulting address is, in words ("12 bytes past the end of the 400-byte
// allocation at 0x..."); it runs in the signal handler, so it must not wait for a lock.
using AddressDescriber = void (*)(uintptr_t address, char* out, size_t outBytes);
void catch_kernel_faults(AddressDescriber describe);

// Access accounting, over every launch since the last reset (the smoke test holds the kernels to it):
// - ldmatrix: each 8x8 matrix is one 128-byte shared-memory request, served in one wavefront when
//   its 8 row addresses fall in 8 distinct 16-byte bank groups, and in as many wavefronts as the
//   most-used group has distinct rows otherwise. A swizzle that works keeps wavefronts == requests.
// - cp.async: the k-th cp.async of every lane of a warp is one warp instruction; it touches some
//   32-byte global sectors, against the fewest its bytes could fill. A coalesced load touches no more.
struct AccessStats {
    uint64_t ldmatrixRequests, ldmatrixWavefronts;
    uint64_t copyInstructions, copySectors, copyIdealSectors;
};
AccessStats access_stats();
void reset_access_stats();

// Limits the emulated device reports (and launch enforces).
constexpr unsigned MAX_THREADS_PER_BLOCK = 1024;
constexpr unsigned MAX_SHARED_PER_BLOCK = 227 * 1024;  // opt-in maximum, as on sm_90
constexpr unsigned DEFAULT_SHARED_PER_BLOCK = 48 * 1024;

}  // namespace emu
