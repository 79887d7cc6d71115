// driver_smoke.cpp: exercises driver_*.cpp against mock_device.cpp, the way JCuda and the project's
// CUDA backend call it. Build and run: kernels/emulator/test/run-driver-smoke.sh
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

// The driver's C entry points with plain types (C linkage: only the names matter to the linker).
extern "C" {
typedef int CUresult;
typedef unsigned long long CUdeviceptr;
typedef void* CUcontext;
typedef void* CUmodule;
typedef void* CUfunction;
typedef void* CUstream;
typedef void* CUevent;
typedef void* CUgraph;
typedef void* CUgraphExec;

CUresult cuInit(unsigned);
CUresult cuDriverGetVersion(int*);
CUresult cuDeviceGetCount(int*);
CUresult cuDeviceGet(int*, int);
CUresult cuDeviceGetName(char*, int, int);
CUresult cuDeviceGetAttribute(int*, int, int);
CUresult cuDeviceTotalMem_v2(size_t*, int);
CUresult cuMemGetInfo_v2(size_t*, size_t*);
CUresult cuDevicePrimaryCtxRetain(CUcontext*, int);
CUresult cuDevicePrimaryCtxRelease_v2(int);
CUresult cuCtxSetCurrent(CUcontext);
CUresult cuCtxGetCurrent(CUcontext*);
CUresult cuCtxSynchronize();
CUresult cuMemAlloc_v2(CUdeviceptr*, size_t);
CUresult cuMemFree_v2(CUdeviceptr);
CUresult cuMemHostAlloc(void**, size_t, unsigned);
CUresult cuMemFreeHost(void*);
CUresult cuMemcpyHtoD_v2(CUdeviceptr, const void*, size_t);
CUresult cuMemcpyDtoH_v2(void*, CUdeviceptr, size_t);
CUresult cuMemcpyDtoD_v2(CUdeviceptr, CUdeviceptr, size_t);
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr, const void*, size_t, CUstream);
CUresult cuMemcpyDtoHAsync_v2(void*, CUdeviceptr, size_t, CUstream);
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr, CUdeviceptr, size_t, CUstream);
CUresult cuMemsetD8_v2(CUdeviceptr, unsigned char, size_t);
CUresult cuMemsetD16_v2(CUdeviceptr, unsigned short, size_t);
CUresult cuMemsetD32_v2(CUdeviceptr, unsigned, size_t);
CUresult cuMemsetD8Async(CUdeviceptr, unsigned char, size_t, CUstream);
CUresult cuMemsetD32Async(CUdeviceptr, unsigned, size_t, CUstream);
CUresult cuStreamCreate(CUstream*, unsigned);
CUresult cuStreamDestroy_v2(CUstream);
CUresult cuStreamSynchronize(CUstream);
CUresult cuStreamQuery(CUstream);
CUresult cuEventCreate(CUevent*, unsigned);
CUresult cuEventRecord(CUevent, CUstream);
CUresult cuEventSynchronize(CUevent);
CUresult cuEventQuery(CUevent);
CUresult cuEventElapsedTime(float*, CUevent, CUevent);
CUresult cuEventDestroy_v2(CUevent);
CUresult cuModuleLoadData(CUmodule*, const void*);
CUresult cuModuleLoadDataEx(CUmodule*, const void*, unsigned, int*, void**);
CUresult cuModuleGetFunction(CUfunction*, CUmodule, const char*);
CUresult cuModuleUnload(CUmodule);
CUresult cuFuncSetAttribute(CUfunction, int, int);
CUresult cuFuncGetAttribute(int*, int, CUfunction);
CUresult cuLaunchKernel(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, CUstream, void**, void**);
CUresult cuStreamBeginCapture_v2(CUstream, int);
CUresult cuStreamEndCapture(CUstream, CUgraph*);
CUresult cuStreamIsCapturing(CUstream, int*);
CUresult cuGraphInstantiateWithFlags(CUgraphExec*, CUgraph, unsigned long long);
CUresult cuGraphLaunch(CUgraphExec, CUstream);
CUresult cuGraphDestroy(CUgraph);
CUresult cuGraphExecDestroy(CUgraphExec);
CUresult cuGetErrorName(CUresult, const char**);
CUresult cuGetErrorString(CUresult, const char**);
CUresult cuArrayDestroy(void*);  // a stub

int mock_launch_count();
unsigned mock_last_dynamic_smem();
}

namespace {

int failures = 0, checks = 0;

const char* name(CUresult rc) {
    const char* s = nullptr;
    return cuGetErrorName(rc, &s) == 0 ? s : "(unknown code)";
}

#define EXPECT_RC(call, want)                                                                          \
    do {                                                                                               \
        checks++;                                                                                      \
        CUresult got_ = (call);                                                                        \
        if (got_ != (want)) {                                                                          \
            failures++;                                                                                \
            fprintf(stderr, "FAIL %s:%d: %s returned %d %s, expected %d %s\n", __FILE__, __LINE__, #call, \
                    got_, name(got_), (want), name(want));                                             \
        }                                                                                              \
    } while (0)

#define EXPECT(cond)                                                                     \
    do {                                                                                 \
        checks++;                                                                        \
        if (!(cond)) {                                                                   \
            failures++;                                                                  \
            fprintf(stderr, "FAIL %s:%d: expected %s\n", __FILE__, __LINE__, #cond);     \
        }                                                                                \
    } while (0)

void section(const char* what) { fprintf(stderr, "--- %s\n", what); }

constexpr CUresult OK = 0, INVALID_VALUE = 1, OUT_OF_MEMORY = 2, NOT_INITIALIZED = 3, INVALID_CONTEXT = 201,
                   INVALID_PTX = 218, UNSUPPORTED_PTX_VERSION = 222, INVALID_HANDLE = 400, ILLEGAL_STATE = 401,
                   NOT_FOUND = 500, ILLEGAL_ADDRESS = 700, OUT_OF_RESOURCES = 701, LAUNCH_FAILED = 719,
                   NOT_SUPPORTED = 801, CAPTURE_UNSUPPORTED = 900, CAPTURE_INVALIDATED = 901, CAPTURE_IMPLICIT = 906,
                   CAPTURE_WRONG_THREAD = 908;
constexpr int MODE_GLOBAL = 0, MODE_THREAD_LOCAL = 1, MODE_RELAXED = 2;
constexpr int FUNC_MAX_THREADS = 0, FUNC_MAX_DYNAMIC_SHARED = 8;

// PTX as nvcc writes it, trimmed: comments (one with a '//' inside a .file path), .visible and
// bare entries, a struct by value, a .maxntid.
const char* kPtx = R"(//
// Generated by NVIDIA NVVM Compiler
.version 9.0
.target sm_80
.address_size 64
.file 1 "/tmp//kernels/vec.cu"

	// .globl	vec_add_forward
.visible .entry vec_add_forward(
	.param .u64 .ptr .global .align 4 vec_add_forward_param_0,
	.param .u64 vec_add_forward_param_1,
	.param .u64 vec_add_forward_param_2,
	.param .u32 vec_add_forward_param_3
)
{
	ret;
}
/* .entry commented_out( .param .u32 x ) */
.entry scale_forward(
	.param .u64 scale_forward_param_0,
	.param .f32 scale_forward_param_1,
	.param .s32 scale_forward_param_2
)
.maxntid 128, 1, 1
{
	ret;
}
.visible .entry pair_forward(
	.param .align 8 .b8 pair_forward_param_0[16],
	.param .u64 pair_forward_param_1
)
{
	ret;
}
.visible .entry fail_forward()
{
	ret;
}
)";

std::string replaced(std::string s, const std::string& from, const std::string& to) {
    size_t at = s.find(from);
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
}

struct Device {
    CUcontext ctx = nullptr;
    CUmodule module = nullptr;
    CUfunction vecAdd = nullptr, scale = nullptr, pair = nullptr, fail = nullptr;
    CUstream stream = nullptr;

    void open() {
        EXPECT_RC(cuDevicePrimaryCtxRetain(&ctx, 0), OK);
        EXPECT_RC(cuCtxSetCurrent(ctx), OK);
        EXPECT_RC(cuModuleLoadData(&module, kPtx), OK);
        EXPECT_RC(cuModuleGetFunction(&vecAdd, module, "vec_add_forward"), OK);
        EXPECT_RC(cuModuleGetFunction(&scale, module, "scale_forward"), OK);
        EXPECT_RC(cuModuleGetFunction(&pair, module, "pair_forward"), OK);
        EXPECT_RC(cuModuleGetFunction(&fail, module, "fail_forward"), OK);
        EXPECT_RC(cuStreamCreate(&stream, 1), OK);
    }

    void close() {
        EXPECT_RC(cuStreamDestroy_v2(stream), OK);
        EXPECT_RC(cuModuleUnload(module), OK);
        EXPECT_RC(cuDevicePrimaryCtxRelease_v2(0), OK);
    }
};

CUresult launchVecAdd(CUfunction f, CUdeviceptr a, CUdeviceptr b, CUdeviceptr out, int n, CUstream s) {
    void* params[] = {&a, &b, &out, &n};
    return cuLaunchKernel(f, (n + 255) / 256, 1, 1, 256, 1, 1, 0, s, params, nullptr);
}

void testDevice() {
    section("device queries");
    int v = 0;
    EXPECT_RC(cuDeviceGetCount(&v), NOT_INITIALIZED);
    EXPECT_RC(cuInit(0), OK);
    EXPECT_RC(cuDriverGetVersion(&v), OK);
    EXPECT(v == 13000);
    EXPECT_RC(cuDeviceGetCount(&v), OK);
    EXPECT(v == 1);
    int dev = -1;
    EXPECT_RC(cuDeviceGet(&dev, 0), OK);
    EXPECT(dev == 0);
    EXPECT_RC(cuDeviceGet(&dev, 1), 101);
    char buf[256];
    EXPECT_RC(cuDeviceGetName(buf, sizeof buf, 0), OK);
    EXPECT(strcmp(buf, "CUDA emulator on the CPU (electra-java)") == 0);
    struct { int attr, want; } attrs[] = {{75, 9}, {76, 0}, {16, 4}, {1, 1024}, {10, 32}, {8, 48 * 1024}, {97, 227 * 1024}, {200, 0}};
    for (auto& a : attrs) {
        EXPECT_RC(cuDeviceGetAttribute(&v, a.attr, 0), OK);
        EXPECT(v == a.want);
    }
    size_t total = 0;
    EXPECT_RC(cuDeviceTotalMem_v2(&total, 0), OK);
    EXPECT(total == (16ull << 30));
    CUdeviceptr p = 0;
    EXPECT_RC(cuMemAlloc_v2(&p, 16), INVALID_CONTEXT);  // no context current yet
}

void testMemory() {
    section("memory: copies, memsets, bounds");
    const size_t n = 1024;
    CUdeviceptr a = 0, b = 0;
    EXPECT_RC(cuMemAlloc_v2(&a, n * 4), OK);
    EXPECT_RC(cuMemAlloc_v2(&b, n * 4), OK);
    EXPECT(a % 256 == 0 && b % 256 == 0);
    std::vector<float> host(n), back(n);
    for (size_t i = 0; i < n; i++) host[i] = static_cast<float>(i);
    EXPECT_RC(cuMemcpyHtoD_v2(a, host.data(), n * 4), OK);
    EXPECT_RC(cuMemcpyDtoD_v2(b, a, n * 4), OK);
    EXPECT_RC(cuMemcpyDtoH_v2(back.data(), b, n * 4), OK);
    EXPECT(back == host);
    EXPECT_RC(cuMemsetD32_v2(a + 8, 0x3f800000u, 2), OK);  // 1.0f
    EXPECT_RC(cuMemsetD16_v2(a + 16, 0xffff, 2), OK);
    EXPECT_RC(cuMemsetD8_v2(a + 20, 0, 4), OK);
    EXPECT_RC(cuMemcpyDtoH_v2(back.data(), a, n * 4), OK);
    EXPECT(back[1] == 1.0f && back[2] == 1.0f && back[3] == 1.0f && back[5] == 0.0f && back[6] == 6.0f);
    uint32_t word = 0;
    memcpy(&word, &back[4], 4);
    EXPECT(word == 0xffffffffu);

    EXPECT_RC(cuMemcpyHtoD_v2(a, host.data(), n * 4 + 4), INVALID_VALUE);          // 4 bytes past the end
    EXPECT_RC(cuMemcpyDtoH_v2(back.data(), a + 4, n * 4), INVALID_VALUE);         // source runs past
    EXPECT_RC(cuMemcpyDtoD_v2(b + 4096, a, 4), INVALID_VALUE);                    // one past the end
    EXPECT_RC(cuMemsetD32_v2(a + 2, 0, 1), INVALID_VALUE);                        // misaligned
    EXPECT_RC(cuMemsetD8_v2(a, 0, n * 4 + 1), INVALID_VALUE);
    EXPECT_RC(cuMemcpyHtoD_v2(a, reinterpret_cast<void*>(b), 16), INVALID_VALUE);  // device memory as host source
    EXPECT_RC(cuMemcpyHtoD_v2(0x1000, host.data(), 4), INVALID_VALUE);            // not device memory
    EXPECT_RC(cuMemcpyHtoD_v2(a, host.data(), 0), OK);                             // empty copies do nothing
    EXPECT_RC(cuMemFree_v2(a + 256), INVALID_VALUE);                               // interior pointer
    CUdeviceptr big = 0;
    EXPECT_RC(cuMemAlloc_v2(&big, 0), INVALID_VALUE);
    EXPECT_RC(cuMemAlloc_v2(&big, 17ull << 30), OUT_OF_MEMORY);
    size_t freeBytes = 0, total = 0;
    EXPECT_RC(cuMemGetInfo_v2(&freeBytes, &total), OK);
    EXPECT(total - freeBytes == 2 * n * 4);

    void* pinned = nullptr;
    EXPECT_RC(cuMemHostAlloc(&pinned, 64, 0), OK);
    EXPECT_RC(cuMemcpyDtoH_v2(pinned, a, 65), INVALID_VALUE);  // runs past the pinned buffer
    EXPECT_RC(cuMemFree_v2(reinterpret_cast<CUdeviceptr>(pinned)), INVALID_VALUE);
    EXPECT_RC(cuMemFreeHost(reinterpret_cast<void*>(a)), INVALID_VALUE);
    EXPECT_RC(cuMemFreeHost(pinned), OK);

    EXPECT_RC(cuMemFree_v2(a), OK);
    EXPECT_RC(cuMemFree_v2(a), INVALID_VALUE);  // double free
    EXPECT_RC(cuMemFree_v2(b), OK);
    EXPECT_RC(cuMemGetInfo_v2(&freeBytes, &total), OK);
    EXPECT(freeBytes == total);
}

void testModules() {
    section("modules: PTX parsing and the host kernels");
    CUmodule m = nullptr;
    CUfunction f = nullptr;
    EXPECT_RC(cuModuleLoadData(&m, kPtx), OK);
    EXPECT_RC(cuModuleGetFunction(&f, m, "commented_out"), NOT_FOUND);
    EXPECT_RC(cuModuleGetFunction(&f, m, "vec_add"), NOT_FOUND);
    EXPECT_RC(cuModuleGetFunction(&f, m, "scale_forward"), OK);
    int v = 0;
    EXPECT_RC(cuFuncGetAttribute(&v, FUNC_MAX_THREADS, f), OK);
    EXPECT(v == 128);  // from .maxntid
    EXPECT_RC(cuModuleUnload(m), OK);
    EXPECT_RC(cuModuleGetFunction(&f, m, "scale_forward"), INVALID_HANDLE);

    std::string unknown = replaced(kPtx, ".entry fail_forward()", ".entry not_compiled()");
    EXPECT_RC(cuModuleLoadData(&m, unknown.c_str()), INVALID_PTX);
    std::string fewer = replaced(kPtx, "\t.param .u32 vec_add_forward_param_3\n", "");
    fewer = replaced(fewer, "vec_add_forward_param_2,", "vec_add_forward_param_2");
    EXPECT_RC(cuModuleLoadData(&m, fewer.c_str()), INVALID_PTX);
    std::string wider = replaced(kPtx, ".param .u32 vec_add_forward_param_3", ".param .u64 vec_add_forward_param_3");
    EXPECT_RC(cuModuleLoadData(&m, wider.c_str()), INVALID_PTX);
    std::string newer = replaced(kPtx, ".version 9.0", ".version 9.1");
    EXPECT_RC(cuModuleLoadData(&m, newer.c_str()), UNSUPPORTED_PTX_VERSION);
    std::string sm90 = replaced(kPtx, ".target sm_80", ".target sm_90a");  // the device is 9.0: Hopper-only PTX loads
    EXPECT_RC(cuModuleLoadData(&m, sm90.c_str()), OK);
    EXPECT_RC(cuModuleGetFunction(&f, m, "scale_forward"), OK);
    EXPECT_RC(cuModuleUnload(m), OK);
    std::string sm100 = replaced(kPtx, ".target sm_80", ".target sm_100a");
    EXPECT_RC(cuModuleLoadData(&m, sm100.c_str()), INVALID_PTX);
    std::string sm86a = replaced(kPtx, ".target sm_80", ".target sm_86a");  // arch-specific: that capability only
    EXPECT_RC(cuModuleLoadData(&m, sm86a.c_str()), INVALID_PTX);
    EXPECT_RC(cuModuleLoadData(&m, "not ptx at all"), INVALID_PTX);

    // the JIT-options form, as JCuda's cuModuleLoadDataJIT passes it: log buffers and their sizes
    char info[256] = {}, error[256] = {};
    int options[] = {3, 4, 5, 6};
    void* values[] = {info, reinterpret_cast<void*>(uintptr_t{sizeof info}), error, reinterpret_cast<void*>(uintptr_t{sizeof error})};
    EXPECT_RC(cuModuleLoadDataEx(&m, wider.c_str(), 4, options, values), INVALID_PTX);
    EXPECT(strstr(error, "vec_add_forward") != nullptr && strstr(error, "parameter 3") != nullptr);
    EXPECT(reinterpret_cast<uintptr_t>(values[3]) == strlen(error));
    values[1] = reinterpret_cast<void*>(uintptr_t{sizeof info});
    values[3] = reinterpret_cast<void*>(uintptr_t{sizeof error});
    EXPECT_RC(cuModuleLoadDataEx(&m, kPtx, 4, options, values), OK);
    EXPECT(strstr(info, "4 entries") != nullptr);
    EXPECT(reinterpret_cast<uintptr_t>(values[3]) == 0);
    EXPECT_RC(cuModuleUnload(m), OK);
    EXPECT_RC(cuModuleUnload(m), INVALID_HANDLE);
}

void testLaunch(Device& d) {
    section("launches: configuration checks, arguments");
    const int n = 1000;
    CUdeviceptr a, b, out;
    EXPECT_RC(cuMemAlloc_v2(&a, n * 4), OK);
    EXPECT_RC(cuMemAlloc_v2(&b, n * 4), OK);
    EXPECT_RC(cuMemAlloc_v2(&out, n * 4), OK);
    std::vector<float> ha(n), hb(n), hout(n);
    for (int i = 0; i < n; i++) ha[i] = static_cast<float>(i), hb[i] = 2.0f * static_cast<float>(i);
    EXPECT_RC(cuMemcpyHtoDAsync_v2(a, ha.data(), n * 4, d.stream), OK);
    EXPECT_RC(cuMemcpyHtoDAsync_v2(b, hb.data(), n * 4, d.stream), OK);
    EXPECT_RC(launchVecAdd(d.vecAdd, a, b, out, n, d.stream), OK);
    EXPECT_RC(cuMemcpyDtoHAsync_v2(hout.data(), out, n * 4, d.stream), OK);
    EXPECT_RC(cuStreamSynchronize(d.stream), OK);
    bool right = true;
    for (int i = 0; i < n; i++) right &= hout[i] == 3.0f * static_cast<float>(i);
    EXPECT(right);

    int count = n;
    void* params[] = {&a, &b, &out, &count};
    EXPECT_RC(cuLaunchKernel(d.vecAdd, 1, 1, 1, 2048, 1, 1, 0, d.stream, params, nullptr), INVALID_VALUE);
    EXPECT_RC(cuLaunchKernel(d.vecAdd, 0, 1, 1, 256, 1, 1, 0, d.stream, params, nullptr), INVALID_VALUE);
    EXPECT_RC(cuLaunchKernel(d.vecAdd, 1, 65536, 1, 256, 1, 1, 0, d.stream, params, nullptr), INVALID_VALUE);
    EXPECT_RC(cuLaunchKernel(d.vecAdd, 1, 1, 1, 32, 32, 2, 0, d.stream, params, nullptr), INVALID_VALUE);
    EXPECT_RC(cuLaunchKernel(d.vecAdd, 1, 1, 1, 256, 1, 1, 0, d.stream, nullptr, nullptr), INVALID_VALUE);
    EXPECT_RC(cuLaunchKernel(d.vecAdd, 1, 1, 1, 256, 1, 1, 0, d.stream, params, params), INVALID_VALUE);
    EXPECT_RC(cuLaunchKernel(d.vecAdd, 1, 1, 1, 256, 1, 1, 64 * 1024, d.stream, params, nullptr), INVALID_VALUE);
    EXPECT_RC(cuFuncSetAttribute(d.vecAdd, FUNC_MAX_DYNAMIC_SHARED, 228 * 1024), INVALID_VALUE);
    EXPECT_RC(cuFuncSetAttribute(d.vecAdd, FUNC_MAX_DYNAMIC_SHARED, 64 * 1024), OK);
    int v = 0;
    EXPECT_RC(cuFuncGetAttribute(&v, FUNC_MAX_DYNAMIC_SHARED, d.vecAdd), OK);
    EXPECT(v == 64 * 1024);
    EXPECT_RC(cuLaunchKernel(d.vecAdd, 4, 1, 1, 256, 1, 1, 64 * 1024, d.stream, params, nullptr), OK);
    EXPECT(mock_last_dynamic_smem() == 64 * 1024);
    EXPECT_RC(cuLaunchKernel(d.vecAdd, 4, 1, 1, 256, 1, 1, 0, reinterpret_cast<CUstream>(0x1234), params, nullptr), INVALID_HANDLE);

    float s = 0.5f;
    void* scaleParams[] = {&out, &s, &count};
    EXPECT_RC(cuLaunchKernel(d.scale, 1, 1, 1, 256, 1, 1, 0, d.stream, scaleParams, nullptr), OUT_OF_RESOURCES);  // .maxntid 128
    EXPECT_RC(cuLaunchKernel(d.scale, 1, 1, 1, 128, 1, 1, 0, d.stream, scaleParams, nullptr), OK);
    EXPECT_RC(cuMemcpyDtoH_v2(hout.data(), out, n * 4), OK);
    EXPECT(hout[10] == 15.0f);

    struct { long long x, y; } pairValue = {40, 2};
    CUdeviceptr result;
    EXPECT_RC(cuMemAlloc_v2(&result, 8), OK);
    void* pairParams[] = {&pairValue, &result};
    EXPECT_RC(cuLaunchKernel(d.pair, 1, 1, 1, 1, 1, 1, 0, nullptr, pairParams, nullptr), OK);  // legacy default stream
    long long r = 0;
    EXPECT_RC(cuMemcpyDtoH_v2(&r, result, 8), OK);
    EXPECT(r == 42);

    section("events");
    CUevent start, stop;
    EXPECT_RC(cuEventCreate(&start, 0), OK);
    EXPECT_RC(cuEventCreate(&stop, 0), OK);
    float ms = -1;
    EXPECT_RC(cuEventElapsedTime(&ms, start, stop), INVALID_HANDLE);  // not recorded yet
    EXPECT_RC(cuEventRecord(start, d.stream), OK);
    EXPECT_RC(launchVecAdd(d.vecAdd, a, b, out, n, d.stream), OK);
    EXPECT_RC(cuEventRecord(stop, d.stream), OK);
    EXPECT_RC(cuEventSynchronize(stop), OK);
    EXPECT_RC(cuEventQuery(stop), OK);
    EXPECT_RC(cuEventElapsedTime(&ms, start, stop), OK);
    EXPECT(ms >= 0.0f && ms < 10000.0f);
    EXPECT_RC(cuEventDestroy_v2(start), OK);
    EXPECT_RC(cuEventDestroy_v2(stop), OK);
    EXPECT_RC(cuEventDestroy_v2(stop), INVALID_HANDLE);

    for (CUdeviceptr p : {a, b, out, result}) EXPECT_RC(cuMemFree_v2(p), OK);
}

void testCapture(Device& d) {
    section("capture and replay");
    const int n = 512;
    CUdeviceptr a, b, out, copy;
    EXPECT_RC(cuMemAlloc_v2(&a, n * 4), OK);
    EXPECT_RC(cuMemAlloc_v2(&b, n * 4), OK);
    EXPECT_RC(cuMemAlloc_v2(&out, n * 4), OK);
    EXPECT_RC(cuMemAlloc_v2(&copy, n * 4), OK);
    float* pinned = nullptr;
    EXPECT_RC(cuMemHostAlloc(reinterpret_cast<void**>(&pinned), n * 4, 0), OK);
    for (int i = 0; i < n; i++) pinned[i] = 1.0f;
    EXPECT_RC(cuMemsetD32_v2(b, 0x40000000u, n), OK);  // 2.0f
    EXPECT_RC(cuMemsetD32_v2(out, 0, n), OK);
    CUevent done;
    EXPECT_RC(cuEventCreate(&done, 0), OK);

    EXPECT_RC(cuStreamBeginCapture_v2(d.stream, MODE_THREAD_LOCAL), OK);
    int status = -1;
    EXPECT_RC(cuStreamIsCapturing(d.stream, &status), OK);
    EXPECT(status == 1);
    EXPECT_RC(cuStreamBeginCapture_v2(d.stream, MODE_THREAD_LOCAL), ILLEGAL_STATE);
    int launchesBefore = mock_launch_count();
    EXPECT_RC(cuMemcpyHtoDAsync_v2(a, pinned, n * 4, d.stream), OK);
    int count = n;
    void* params[] = {&a, &b, &out, &count};
    EXPECT_RC(cuLaunchKernel(d.vecAdd, 2, 1, 1, 256, 1, 1, 0, d.stream, params, nullptr), OK);
    count = 5;  // captured by value: the replay still adds n elements
    EXPECT_RC(cuMemcpyDtoDAsync_v2(copy, out, n * 4, d.stream), OK);
    EXPECT_RC(cuMemsetD32Async(out, 0, 1, d.stream), OK);
    EXPECT_RC(cuMemcpyDtoHAsync_v2(pinned, copy, n * 4, d.stream), OK);
    EXPECT_RC(cuEventRecord(done, d.stream), OK);
    EXPECT_RC(cuEventQuery(done), CAPTURE_UNSUPPORTED);  // an event recorded in the capture: invalidates it
    EXPECT_RC(cuStreamIsCapturing(d.stream, &status), OK);
    EXPECT(status == 2);
    CUgraph graph = reinterpret_cast<CUgraph>(0x1);
    EXPECT_RC(cuStreamEndCapture(d.stream, &graph), CAPTURE_INVALIDATED);
    EXPECT(graph == nullptr);
    EXPECT(mock_launch_count() == launchesBefore);  // nothing ran during the capture

    // the same again, without the query
    EXPECT_RC(cuStreamBeginCapture_v2(d.stream, MODE_THREAD_LOCAL), OK);
    count = n;
    EXPECT_RC(cuMemcpyHtoDAsync_v2(a, pinned, n * 4, d.stream), OK);
    EXPECT_RC(cuLaunchKernel(d.vecAdd, 2, 1, 1, 256, 1, 1, 0, d.stream, params, nullptr), OK);
    count = 5;
    EXPECT_RC(cuMemcpyDtoDAsync_v2(copy, out, n * 4, d.stream), OK);
    EXPECT_RC(cuMemsetD32Async(out, 0, 1, d.stream), OK);
    EXPECT_RC(cuMemcpyDtoHAsync_v2(pinned, copy, n * 4, d.stream), OK);
    EXPECT_RC(cuEventRecord(done, d.stream), OK);
    EXPECT_RC(cuStreamEndCapture(d.stream, &graph), OK);
    EXPECT_RC(cuStreamIsCapturing(d.stream, &status), OK);
    EXPECT(status == 0);
    EXPECT(mock_launch_count() == launchesBefore);
    EXPECT(pinned[0] == 1.0f);
    float firstOut = -1;
    EXPECT_RC(cuMemcpyDtoH_v2(&firstOut, out, 4), OK);
    EXPECT(firstOut == 0.0f);

    CUgraphExec exec;
    EXPECT_RC(cuGraphInstantiateWithFlags(&exec, graph, 0), OK);
    EXPECT_RC(cuGraphLaunch(exec, d.stream), OK);
    EXPECT_RC(cuStreamSynchronize(d.stream), OK);
    EXPECT(mock_launch_count() == launchesBefore + 1);
    EXPECT(pinned[0] == 3.0f && pinned[n - 1] == 3.0f);  // 1 + 2 over all n: the captured count
    std::vector<float> h(n);
    EXPECT_RC(cuMemcpyDtoH_v2(h.data(), out, n * 4), OK);
    EXPECT(h[0] == 0.0f && h[1] == 3.0f);
    // a replay reads the pinned buffer as it is then: 3 + 2
    EXPECT_RC(cuGraphLaunch(exec, d.stream), OK);
    EXPECT(pinned[7] == 5.0f);
    EXPECT_RC(cuEventSynchronize(done), OK);
    EXPECT_RC(cuGraphDestroy(graph), OK);  // the exec stays usable
    EXPECT_RC(cuGraphLaunch(exec, d.stream), OK);
    EXPECT(pinned[7] == 7.0f);
    EXPECT_RC(cuGraphExecDestroy(exec), OK);
    EXPECT_RC(cuGraphExecDestroy(exec), INVALID_VALUE);

    section("capture: what invalidates it");
    EXPECT_RC(cuStreamEndCapture(d.stream, &graph), ILLEGAL_STATE);  // not capturing
    struct Case {
        const char* what;
        CUresult (*call)(Device&, CUdeviceptr, float*);
        CUresult want;
    } cases[] = {
        {"cuStreamSynchronize", [](Device& dv, CUdeviceptr, float*) { return cuStreamSynchronize(dv.stream); }, CAPTURE_UNSUPPORTED},
        {"cuStreamQuery", [](Device& dv, CUdeviceptr, float*) { return cuStreamQuery(dv.stream); }, CAPTURE_UNSUPPORTED},
        {"cuCtxSynchronize", [](Device&, CUdeviceptr, float*) { return cuCtxSynchronize(); }, CAPTURE_UNSUPPORTED},
        {"cuMemAlloc", [](Device&, CUdeviceptr, float*) { CUdeviceptr p; return cuMemAlloc_v2(&p, 64); }, CAPTURE_UNSUPPORTED},
        {"cuMemFree", [](Device&, CUdeviceptr p, float*) { return cuMemFree_v2(p); }, CAPTURE_UNSUPPORTED},
        {"synchronous cuMemcpyHtoD", [](Device&, CUdeviceptr p, float* host) { return cuMemcpyHtoD_v2(p, host, 4); }, CAPTURE_UNSUPPORTED},
        {"synchronous cuMemsetD8", [](Device&, CUdeviceptr p, float*) { return cuMemsetD8_v2(p, 0, 4); }, CAPTURE_UNSUPPORTED},
        {"pageable cuMemcpyDtoHAsync", [](Device& dv, CUdeviceptr p, float*) { static float x; return cuMemcpyDtoHAsync_v2(&x, p, 4, dv.stream); }, CAPTURE_UNSUPPORTED},
        {"out-of-range cuMemsetD32Async", [](Device& dv, CUdeviceptr p, float*) { return cuMemsetD32Async(p, 0, 513, dv.stream); }, INVALID_VALUE},
    };
    for (const Case& c : cases) {
        fprintf(stderr, "(%s)\n", c.what);
        EXPECT_RC(cuStreamBeginCapture_v2(d.stream, MODE_THREAD_LOCAL), OK);
        EXPECT_RC(c.call(d, out, pinned), c.want);
        EXPECT_RC(launchVecAdd(d.vecAdd, a, b, out, n, d.stream), CAPTURE_INVALIDATED);
        EXPECT_RC(cuStreamIsCapturing(d.stream, &status), OK);
        EXPECT(status == 2);
        EXPECT_RC(cuStreamEndCapture(d.stream, &graph), CAPTURE_INVALIDATED);
    }
    EXPECT_RC(cuMemFree_v2(out), OK);  // still alive: the refused free did nothing
    EXPECT_RC(cuMemAlloc_v2(&out, n * 4), OK);

    // relaxed mode permits allocation; a blocking stream's capture makes the legacy stream refuse work
    EXPECT_RC(cuStreamBeginCapture_v2(d.stream, MODE_RELAXED), OK);
    CUdeviceptr extra;
    EXPECT_RC(cuMemAlloc_v2(&extra, 64), OK);
    EXPECT_RC(cuMemFree_v2(extra), OK);
    EXPECT_RC(cuStreamEndCapture(d.stream, &graph), OK);
    EXPECT_RC(cuGraphDestroy(graph), OK);
    CUstream blocking;
    EXPECT_RC(cuStreamCreate(&blocking, 0), OK);
    EXPECT_RC(cuStreamBeginCapture_v2(blocking, MODE_RELAXED), OK);
    EXPECT_RC(cuMemsetD32Async(out, 0, 1, nullptr), CAPTURE_IMPLICIT);
    EXPECT_RC(cuStreamEndCapture(blocking, &graph), CAPTURE_INVALIDATED);
    EXPECT_RC(cuStreamBeginCapture_v2(nullptr, MODE_GLOBAL), CAPTURE_UNSUPPORTED);
    EXPECT_RC(cuStreamDestroy_v2(blocking), OK);

    section("capture across threads");
    EXPECT_RC(cuStreamBeginCapture_v2(d.stream, MODE_THREAD_LOCAL), OK);
    std::thread([&] {
        EXPECT_RC(cuMemAlloc_v2(&extra, 64), INVALID_CONTEXT);  // this thread has no current context
        EXPECT_RC(cuCtxSetCurrent(d.ctx), OK);
        EXPECT_RC(cuMemAlloc_v2(&extra, 64), OK);  // another thread's thread-local capture does not care
        EXPECT_RC(cuMemFree_v2(extra), OK);
        CUgraph g;
        EXPECT_RC(cuStreamEndCapture(d.stream, &g), CAPTURE_WRONG_THREAD);
    }).join();
    EXPECT_RC(cuStreamEndCapture(d.stream, &graph), OK);
    EXPECT_RC(cuGraphDestroy(graph), OK);
    EXPECT_RC(cuStreamBeginCapture_v2(d.stream, MODE_GLOBAL), OK);
    std::thread([&] {
        EXPECT_RC(cuCtxSetCurrent(d.ctx), OK);
        EXPECT_RC(cuMemAlloc_v2(&extra, 64), CAPTURE_UNSUPPORTED);  // a global capture does
    }).join();
    EXPECT_RC(cuStreamEndCapture(d.stream, &graph), CAPTURE_INVALIDATED);

    section("graph launched into a capture");
    EXPECT_RC(cuStreamBeginCapture_v2(d.stream, MODE_THREAD_LOCAL), OK);
    EXPECT_RC(cuMemsetD32Async(out, 0x3f800000u, n, d.stream), OK);
    EXPECT_RC(cuStreamEndCapture(d.stream, &graph), OK);
    EXPECT_RC(cuGraphInstantiateWithFlags(&exec, graph, 0), OK);
    CUgraph outer;
    CUgraphExec outerExec;
    EXPECT_RC(cuMemsetD32_v2(out, 0, n), OK);
    EXPECT_RC(cuStreamBeginCapture_v2(d.stream, MODE_THREAD_LOCAL), OK);
    EXPECT_RC(cuGraphLaunch(exec, d.stream), OK);
    EXPECT_RC(cuStreamEndCapture(d.stream, &outer), OK);
    EXPECT_RC(cuGraphInstantiateWithFlags(&outerExec, outer, 0), OK);
    EXPECT_RC(cuMemcpyDtoH_v2(h.data(), out, 4), OK);
    EXPECT(h[0] == 0.0f);
    EXPECT_RC(cuGraphLaunch(outerExec, d.stream), OK);
    EXPECT_RC(cuMemcpyDtoH_v2(h.data(), out, 4), OK);
    EXPECT(h[0] == 1.0f);
    EXPECT_RC(cuGraphExecDestroy(outerExec), OK);
    EXPECT_RC(cuGraphDestroy(outer), OK);
    EXPECT_RC(cuGraphExecDestroy(exec), OK);
    EXPECT_RC(cuGraphDestroy(graph), OK);

    EXPECT_RC(cuEventDestroy_v2(done), OK);
    EXPECT_RC(cuMemFreeHost(pinned), OK);
    for (CUdeviceptr p : {a, b, out, copy}) EXPECT_RC(cuMemFree_v2(p), OK);
}

void testStickyFailures() {
    section("a failing kernel fails the context until it is released");
    Device d;
    d.open();
    CUdeviceptr keep;
    EXPECT_RC(cuMemAlloc_v2(&keep, 64), OK);
    EXPECT_RC(cuLaunchKernel(d.fail, 1, 1, 1, 32, 1, 1, 0, d.stream, nullptr, nullptr), LAUNCH_FAILED);
    EXPECT_RC(cuStreamSynchronize(d.stream), LAUNCH_FAILED);
    CUdeviceptr p;
    EXPECT_RC(cuMemAlloc_v2(&p, 64), LAUNCH_FAILED);
    EXPECT_RC(cuMemFree_v2(keep), OK);  // teardown still works
    d.close();
    d.open();  // a fresh context
    EXPECT_RC(cuMemAlloc_v2(&p, 64), OK);
    EXPECT_RC(cuStreamSynchronize(d.stream), OK);

    section("a replay touching freed memory is an illegal address");
    CUgraph graph;
    CUgraphExec exec;
    EXPECT_RC(cuStreamBeginCapture_v2(d.stream, MODE_THREAD_LOCAL), OK);
    EXPECT_RC(cuMemsetD8Async(p, 7, 64, d.stream), OK);
    EXPECT_RC(cuStreamEndCapture(d.stream, &graph), OK);
    EXPECT_RC(cuGraphInstantiateWithFlags(&exec, graph, 0), OK);
    EXPECT_RC(cuGraphLaunch(exec, d.stream), OK);
    EXPECT_RC(cuMemFree_v2(p), OK);
    EXPECT_RC(cuGraphLaunch(exec, d.stream), ILLEGAL_ADDRESS);
    EXPECT_RC(cuStreamSynchronize(d.stream), ILLEGAL_ADDRESS);
    d.close();  // the last release frees what is left (the graphs) and clears the failure
    d.open();
    EXPECT_RC(cuGraphLaunch(exec, d.stream), INVALID_HANDLE);  // gone with the old context
    EXPECT_RC(cuStreamSynchronize(d.stream), OK);
    d.close();
    EXPECT_RC(cuDevicePrimaryCtxRelease_v2(0), INVALID_CONTEXT);  // not retained
    EXPECT_RC(cuMemAlloc_v2(&p, 64), INVALID_CONTEXT);             // current, but released
}

void testMisc() {
    section("errors and stubs");
    const char* s = nullptr;
    EXPECT_RC(cuGetErrorName(719, &s), OK);
    EXPECT(s && strcmp(s, "CUDA_ERROR_LAUNCH_FAILED") == 0);
    EXPECT_RC(cuGetErrorString(900, &s), OK);
    EXPECT(s && strstr(s, "capturing") != nullptr);
    EXPECT_RC(cuGetErrorName(12345, &s), INVALID_VALUE);
    EXPECT_RC(cuArrayDestroy(nullptr), NOT_SUPPORTED);
    EXPECT_RC(cuArrayDestroy(nullptr), NOT_SUPPORTED);  // says so once on stderr
}

}  // namespace

int main() {
    testDevice();
    Device d;
    d.open();
    CUcontext current = nullptr;
    EXPECT_RC(cuCtxGetCurrent(&current), OK);
    EXPECT(current == d.ctx);
    testMemory();
    testModules();
    testLaunch(d);
    testCapture(d);
    d.close();
    testStickyFailures();
    testMisc();
    fprintf(stderr, "%s: %d of %d checks failed\n", failures ? "FAILED" : "PASSED", failures, checks);
    return failures ? 1 : 0;
}
