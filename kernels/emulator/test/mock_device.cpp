// mock_device.cpp: a stand-in for runtime.cpp and the host-compiled kernels, so driver_*.cpp can be
// tested alone. Each kernel runs its whole grid in a plain loop inside launch.
#include "../emu_runtime.h"

#include <cstring>

namespace {

struct Launch {
    int count = 0;
    emu::Dim3 grid{0, 0, 0}, block{0, 0, 0};
    unsigned dynamicSmem = 0;
};
Launch last;

template <typename T>
T arg(void* const* params, int i) {
    T v;
    memcpy(&v, params[i], sizeof v);
    return v;
}

// vec_add_forward(const float* a, const float* b, float* out, int n)
void vecAdd(void* const* p) {
    const float* a = arg<const float*>(p, 0);
    const float* b = arg<const float*>(p, 1);
    float* out = arg<float*>(p, 2);
    int n = arg<int>(p, 3);
    unsigned threads = last.grid.x * last.block.x;
    for (unsigned i = 0; i < threads; i++) {
        if (static_cast<int>(i) < n) out[i] = a[i] + b[i];
    }
}

// scale_forward(float* x, float s, int n)
void scale(void* const* p) {
    float* x = arg<float*>(p, 0);
    float s = arg<float>(p, 1);
    int n = arg<int>(p, 2);
    for (int i = 0; i < n; i++) x[i] *= s;
}

struct Pair {
    long long a, b;
};

// pair_forward(Pair by value, long long* out): out[0] = a + b
void pair(void* const* p) {
    Pair v = arg<Pair>(p, 0);
    long long* out = arg<long long*>(p, 1);
    out[0] = v.a + v.b;
}

void nothing(void* const*) {}

const size_t vecAddSizes[] = {8, 8, 8, 4};
const size_t scaleSizes[] = {8, 4, 4};
const size_t pairSizes[] = {16, 8};

const emu::KernelInfo kernels[] = {
    {"vec_add_forward", vecAdd, 4, vecAddSizes},
    {"scale_forward", scale, 3, scaleSizes},
    {"pair_forward", pair, 2, pairSizes},
    {"fail_forward", nothing, 0, nullptr},
};

}  // namespace

namespace emu {

const KernelInfo* find_kernel(const char* name) {
    for (const KernelInfo& k : kernels) {
        if (strcmp(k.name, name) == 0) return &k;
    }
    return nullptr;
}

const char* launch(const KernelInfo* kernel, Dim3 grid, Dim3 block, unsigned dynamicSmem, void* const* params) {
    last.count++;
    last.grid = grid;
    last.block = block;
    last.dynamicSmem = dynamicSmem;
    if (strcmp(kernel->name, "fail_forward") == 0) return "fail_forward: block (0, 0, 0): a barrier some threads never reach (mock)";
    kernel->call(params);
    return nullptr;
}

void catch_kernel_faults(AddressDescriber) {}  // the mock's kernels run on the caller's thread: no fibers to fault

}  // namespace emu

extern "C" int mock_launch_count() { return last.count; }
extern "C" unsigned mock_last_dynamic_smem() { return last.dynamicSmem; }
