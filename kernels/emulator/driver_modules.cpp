// driver_modules.cpp: reading PTX text and binding its entries to the kernels compiled for the
// host, modules, functions and their attributes.
#include "driver_internal.h"

using namespace cuemu;

namespace {

// ---- PTX ----

struct PtxEntry {
    std::string name;
    std::vector<size_t> paramSizes;
    unsigned maxntid[3] = {0, 0, 0};
    unsigned reqntid[3] = {0, 0, 0};
};

struct PtxText {
    int major = -1, minor = -1;  // .version
    int sm = -1;                 // .target sm_NN
    bool archSpecific = false;   // .target sm_NNa: runs on exactly that compute capability
    std::string target;
    std::vector<PtxEntry> entries;
};

// The text without comments (// to the end of the line, /* */); string literals such as .file
// paths keep their slashes.
std::string stripComments(const char* p) {
    std::string out;
    out.reserve(strlen(p));
    bool inString = false;
    while (*p) {
        if (inString) {
            if (*p == '\\' && p[1]) out += *p++;
            else if (*p == '"') inString = false;
            out += *p++;
        } else if (*p == '"') {
            inString = true;
            out += *p++;
        } else if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n') p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char* end = strstr(p + 2, "*/");
            p = end ? end + 2 : p + strlen(p);
            out += ' ';
        } else {
            out += *p++;
        }
    }
    return out;
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool isIdentChar(char c) { return isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '%'; }

// Positions of a directive (".entry", ".version") standing as a whole word.
std::vector<size_t> findDirective(const std::string& text, const char* directive) {
    std::vector<size_t> at;
    size_t len = strlen(directive);
    for (size_t pos = text.find(directive); pos != std::string::npos; pos = text.find(directive, pos + len)) {
        bool before = pos == 0 || isSpace(text[pos - 1]);
        bool after = pos + len == text.size() || !isIdentChar(text[pos + len]);
        if (before && after) at.push_back(pos);
    }
    return at;
}

std::vector<std::string> words(const std::string& s) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && isSpace(s[i])) i++;
        size_t start = i;
        while (i < s.size() && !isSpace(s[i])) i++;
        if (i > start) out.push_back(s.substr(start, i - start));
    }
    return out;
}

size_t ptxTypeBytes(const std::string& t) {
    static const std::map<std::string, size_t> sizes = {
        {".b8", 1},  {".u8", 1},  {".s8", 1},  {".b16", 2},  {".u16", 2}, {".s16", 2},    {".f16", 2},
        {".bf16", 2}, {".b32", 4}, {".u32", 4}, {".s32", 4},  {".f32", 4}, {".f16x2", 4}, {".bf16x2", 4},
        {".b64", 8}, {".u64", 8}, {".s64", 8}, {".f64", 8},  {".b128", 16}};
    auto it = sizes.find(t);
    return it == sizes.end() ? 0 : it->second;
}

// The byte size of one parameter declaration (".param .align 8 .b8 name[16]", ".param .u64 .ptr
// .global .align 4 name"), or 0 with why set.
size_t paramBytes(const std::string& decl, std::string& why) {
    std::vector<std::string> w = words(decl);
    if (w.empty() || w[0] != ".param") {
        why = "'" + decl + "' is not a .param";
        return 0;
    }
    size_t elem = 0;
    std::string rest;  // the name and any [N], possibly split by spaces
    for (size_t i = 1; i < w.size(); i++) {
        if (w[i] == ".align") {
            i++;  // its number
        } else if (w[i] == ".ptr" || w[i] == ".global" || w[i] == ".const" || w[i] == ".shared" || w[i] == ".local") {
            continue;
        } else if (w[i][0] == '.' && elem == 0) {
            elem = ptxTypeBytes(w[i]);
            if (elem == 0) {
                why = "unknown parameter type " + w[i] + " in '" + decl + "'";
                return 0;
            }
        } else {
            rest += w[i];
        }
    }
    if (elem == 0 || rest.empty()) {
        why = "cannot read '" + decl + "'";
        return 0;
    }
    size_t open = rest.find('[');
    if (open == std::string::npos) return elem;
    unsigned long n = strtoul(rest.c_str() + open + 1, nullptr, 10);
    if (n == 0) {
        why = "cannot read the array size in '" + decl + "'";
        return 0;
    }
    return elem * n;
}

// Reads up to three numbers after a directive such as ".maxntid 256, 1, 1".
void readDims(const std::string& text, const char* directive, unsigned dims[3]) {
    std::vector<size_t> at = findDirective(text, directive);
    if (at.empty()) return;
    const char* p = text.c_str() + at[0] + strlen(directive);
    dims[0] = dims[1] = dims[2] = 1;
    for (int i = 0; i < 3; i++) {
        while (*p && (isSpace(*p) || *p == ',')) p++;
        if (!isdigit(static_cast<unsigned char>(*p))) break;
        dims[i] = static_cast<unsigned>(strtoul(p, const_cast<char**>(&p), 10));
    }
}

// Reads the header and every .entry with its parameter sizes; returns why it cannot, or "".
std::string parsePtx(const std::string& text, PtxText& out) {
    std::vector<size_t> version = findDirective(text, ".version");
    if (version.empty() || sscanf(text.c_str() + version[0] + 8, " %d.%d", &out.major, &out.minor) != 2) {
        return "no '.version X.Y' directive: not PTX text";
    }
    std::vector<size_t> target = findDirective(text, ".target");
    if (!target.empty()) {
        size_t end = text.find('\n', target[0]);
        out.target = text.substr(target[0] + 7, end == std::string::npos ? std::string::npos : end - target[0] - 7);
        size_t sm = out.target.find("sm_");
        if (sm != std::string::npos) {
            const char* digits = out.target.c_str() + sm + 3;
            out.sm = atoi(digits);
            while (isdigit(static_cast<unsigned char>(*digits))) digits++;
            out.archSpecific = *digits == 'a';
        }
        while (!out.target.empty() && isSpace(out.target.front())) out.target.erase(0, 1);
        while (!out.target.empty() && isSpace(out.target.back())) out.target.pop_back();
    }
    for (size_t pos : findDirective(text, ".entry")) {
        PtxEntry e;
        size_t i = pos + 6;
        while (i < text.size() && isSpace(text[i])) i++;
        size_t start = i;
        while (i < text.size() && isIdentChar(text[i])) i++;
        if (i == start) return "an .entry without a name";
        e.name = text.substr(start, i - start);
        while (i < text.size() && isSpace(text[i])) i++;
        if (i < text.size() && text[i] == '(') {
            size_t close = text.find(')', i);
            if (close == std::string::npos) return "the parameter list of .entry " + e.name + " is not closed";
            std::string list = text.substr(i + 1, close - i - 1);
            size_t from = 0;
            while (from <= list.size()) {
                size_t comma = list.find(',', from);
                std::string decl = list.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
                if (!words(decl).empty()) {
                    std::string why;
                    size_t bytes = paramBytes(decl, why);
                    if (bytes == 0) return ".entry " + e.name + ": " + why;
                    e.paramSizes.push_back(bytes);
                }
                if (comma == std::string::npos) break;
                from = comma + 1;
            }
            i = close + 1;
        }
        size_t body = text.find_first_of("{;", i);
        std::string directives = text.substr(i, body == std::string::npos ? std::string::npos : body - i);
        readDims(directives, ".maxntid", e.maxntid);
        readDims(directives, ".reqntid", e.reqntid);
        out.entries.push_back(std::move(e));
    }
    return "";
}

// Checks a parsed module against the kernels compiled into the emulator; one line per problem.
std::vector<std::string> bindEntries(const PtxText& ptx, std::vector<const emu::KernelInfo*>& kernels) {
    std::vector<std::string> problems;
    if (ptx.major > kMaxPtxMajor || (ptx.major == kMaxPtxMajor && ptx.minor > kMaxPtxMinor)) {
        problems.push_back(format("PTX ISA %d.%d is newer than this driver (CUDA %d.%d) accepts", ptx.major, ptx.minor,
                                  kDriverVersion / 1000, kDriverVersion % 1000 / 10));
        return problems;
    }
    if (ptx.sm > kSmTarget) {
        problems.push_back(format(".target %s is newer than the emulated device (sm_%d)", ptx.target.c_str(), kSmTarget));
        return problems;
    }
    if (ptx.archSpecific && ptx.sm != kSmTarget) {
        problems.push_back(format(".target %s is specific to compute capability %d.%d; the emulated device is sm_%d",
                                  ptx.target.c_str(), ptx.sm / 10, ptx.sm % 10, kSmTarget));
        return problems;
    }
    for (const PtxEntry& e : ptx.entries) {
        const emu::KernelInfo* k = emu::find_kernel(e.name.c_str());
        kernels.push_back(k);
        if (k == nullptr) {
            problems.push_back("entry " + e.name + " is not compiled into the emulator (emu::find_kernel does not know it)");
            continue;
        }
        if (static_cast<size_t>(k->paramCount) != e.paramSizes.size()) {
            problems.push_back(format("entry %s: the PTX declares %zu parameters but the compiled host kernel takes %d "
                                      "(the committed PTX and the kernel source disagree)",
                                      e.name.c_str(), e.paramSizes.size(), k->paramCount));
            continue;
        }
        for (size_t i = 0; i < e.paramSizes.size(); i++) {
            if (k->paramSizes[i] != e.paramSizes[i]) {
                problems.push_back(format("entry %s: parameter %zu is %zu bytes in the PTX but %zu in the compiled host kernel "
                                          "(the committed PTX and the kernel source disagree)",
                                          e.name.c_str(), i, e.paramSizes[i], k->paramSizes[i]));
            }
        }
    }
    return problems;
}

// Copies s into a JIT log buffer of size bytes; returns the bytes written (without the NUL).
size_t writeLog(char* buf, size_t size, const std::string& s) {
    if (buf == nullptr || size == 0) return 0;
    size_t n = std::min(s.size(), size - 1);
    memcpy(buf, s.data(), n);
    buf[n] = '\0';
    return n;
}

CUresult loadModule(const char* api, CUmodule* module, const void* image, std::string& infoLog, std::string& errorLog) {
    if (CUresult rc = gate(api)) return rc;
    if (module == nullptr || image == nullptr) return CUDA_ERROR_INVALID_VALUE;
    const unsigned char* bytes = static_cast<const unsigned char*>(image);
    if ((bytes[0] == 0x7f && bytes[1] == 'E' && bytes[2] == 'L' && bytes[3] == 'F') ||
        (bytes[0] == 0x50 && bytes[1] == 0xed && bytes[2] == 0x55 && bytes[3] == 0xba)) {
        const char* why = "the emulator loads PTX text only, not cubin or fatbin images";
        errorLog = std::string("cuda-emu: ") + why;
        return fail(CUDA_ERROR_INVALID_IMAGE, api, why);
    }
    PtxText ptx;
    std::string why = parsePtx(stripComments(static_cast<const char*>(image)), ptx);
    std::vector<const emu::KernelInfo*> kernels;
    std::vector<std::string> problems;
    if (!why.empty()) problems.push_back(why);
    else problems = bindEntries(ptx, kernels);
    if (!problems.empty()) {
        for (const std::string& p : problems) {
            fail(CUDA_ERROR_INVALID_PTX, api, p);
            errorLog += "cuda-emu: " + p + "\n";
        }
        bool tooNew = ptx.major > kMaxPtxMajor || (ptx.major == kMaxPtxMajor && ptx.minor > kMaxPtxMinor);
        return tooNew ? CUDA_ERROR_UNSUPPORTED_PTX_VERSION : CUDA_ERROR_INVALID_PTX;
    }
    CUmod_st* m = new CUmod_st();
    for (size_t i = 0; i < ptx.entries.size(); i++) {
        const PtxEntry& e = ptx.entries[i];
        bool duplicate = false;
        for (auto& f : m->functions) duplicate |= f->name == e.name;
        if (duplicate) continue;
        auto f = std::make_unique<CUfunc_st>();
        f->module = m;
        f->name = e.name;
        f->kernel = kernels[i];
        f->ptxVersion = 10 * ptx.major + ptx.minor;
        if (e.maxntid[0]) f->maxThreads = std::min(emu::MAX_THREADS_PER_BLOCK, e.maxntid[0] * e.maxntid[1] * e.maxntid[2]);
        std::copy(e.reqntid, e.reqntid + 3, f->reqntid);
        state().functions.insert(f.get());
        m->functions.push_back(std::move(f));
    }
    state().modules.insert(m);
    *module = m;
    infoLog = format("cuda-emu: %zu entries of PTX ISA %d.%d (.target %s) bound to kernels compiled for the host\n",
                     m->functions.size(), ptx.major, ptx.minor, ptx.target.c_str());
    return CUDA_SUCCESS;
}

}  // namespace

namespace cuemu {

void destroyModule(CUmod_st* m) {
    for (auto& f : m->functions) state().functions.erase(f.get());
    state().modules.erase(m);
    delete m;
}

}  // namespace cuemu

// ==== modules and functions ====

CUEMU_API cuModuleLoadData(CUmodule* module, const void* image) {
    LOCKED;
    std::string info, error;
    return loadModule(__func__, module, image, info, error);
}

CUEMU_API cuModuleLoadDataEx(CUmodule* module, const void* image, unsigned int numOptions, CUjit_option* options, void** optionValues) {
    LOCKED;
    if (numOptions > 0 && (options == nullptr || optionValues == nullptr)) return CUDA_ERROR_INVALID_VALUE;
    char* infoBuf = nullptr;
    char* errorBuf = nullptr;
    size_t infoSize = 0, errorSize = 0;
    int infoSizeAt = -1, errorSizeAt = -1;
    for (unsigned i = 0; i < numOptions; i++) {  // other JIT options (optimisation level, target...) mean nothing here
        switch (options[i]) {
        case CU_JIT_INFO_LOG_BUFFER: infoBuf = static_cast<char*>(optionValues[i]); break;
        case CU_JIT_ERROR_LOG_BUFFER: errorBuf = static_cast<char*>(optionValues[i]); break;
        case CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES:
            infoSize = static_cast<unsigned>(reinterpret_cast<uintptr_t>(optionValues[i]));
            infoSizeAt = static_cast<int>(i);
            break;
        case CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES:
            errorSize = static_cast<unsigned>(reinterpret_cast<uintptr_t>(optionValues[i]));
            errorSizeAt = static_cast<int>(i);
            break;
        default: break;
        }
    }
    std::string info, error;
    CUresult rc = loadModule(__func__, module, image, info, error);
    // the size options are in/out: on return they hold the bytes written
    size_t infoWritten = writeLog(infoBuf, infoSize, info);
    size_t errorWritten = writeLog(errorBuf, errorSize, error);
    if (infoSizeAt >= 0) optionValues[infoSizeAt] = reinterpret_cast<void*>(static_cast<uintptr_t>(infoWritten));
    if (errorSizeAt >= 0) optionValues[errorSizeAt] = reinterpret_cast<void*>(static_cast<uintptr_t>(errorWritten));
    return rc;
}

CUEMU_API cuModuleGetFunction(CUfunction* function, CUmodule module, const char* name) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (function == nullptr || name == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (!S.modules.count(module)) return fail(CUDA_ERROR_INVALID_HANDLE, __func__, format("%p is not a loaded module", (void*)module));
    for (auto& f : module->functions) {
        if (f->name == name) {
            *function = f.get();
            return CUDA_SUCCESS;
        }
    }
    return fail(CUDA_ERROR_NOT_FOUND, __func__, std::string("the module has no .entry ") + name);
}

CUEMU_API cuModuleUnload(CUmodule module) {
    LOCKED;
    if (!S.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!S.modules.count(module)) return fail(CUDA_ERROR_INVALID_HANDLE, __func__, format("%p is not a loaded module", (void*)module));
    destroyModule(module);
    return CUDA_SUCCESS;
}

CUEMU_API cuFuncSetAttribute(CUfunction f, CUfunction_attribute attribute, int value) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (!S.functions.count(f)) return fail(CUDA_ERROR_INVALID_HANDLE, __func__, format("%p is not a live function", (void*)f));
    switch (attribute) {
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
        if (value < 0 || static_cast<unsigned>(value) > emu::MAX_SHARED_PER_BLOCK) {
            return fail(CUDA_ERROR_INVALID_VALUE, __func__, format("%s: %d bytes of dynamic shared memory exceed the device's opt-in limit of %u",
                                                                   f->name.c_str(), value, emu::MAX_SHARED_PER_BLOCK));
        }
        f->maxDynamicShared = value;
        return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT:
        if (value < -1 || value > 100) return CUDA_ERROR_INVALID_VALUE;
        f->carveout = value;
        return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH:
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_HEIGHT:
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_DEPTH:
    case CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED:
    case CU_FUNC_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE:
        f->settable[attribute] = value;  // stored, reported back; clusters are not emulated
        return CUDA_SUCCESS;
    default:
        return CUDA_ERROR_INVALID_VALUE;  // read-only attributes
    }
}

CUEMU_API cuFuncGetAttribute(int* value, CUfunction_attribute attribute, CUfunction f) {
    LOCKED;
    if (CUresult rc = gate(__func__)) return rc;
    if (value == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (!S.functions.count(f)) return fail(CUDA_ERROR_INVALID_HANDLE, __func__, format("%p is not a live function", (void*)f));
    switch (attribute) {
    case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *value = static_cast<int>(f->maxThreads); break;
    case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES: *value = 0; break;  // static shared memory is the device side's business
    case CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES: *value = 0; break;
    case CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES: *value = 0; break;
    case CU_FUNC_ATTRIBUTE_NUM_REGS: *value = 32; break;
    case CU_FUNC_ATTRIBUTE_PTX_VERSION: *value = f->ptxVersion; break;
    case CU_FUNC_ATTRIBUTE_BINARY_VERSION: *value = kSmTarget; break;
    case CU_FUNC_ATTRIBUTE_CACHE_MODE_CA: *value = 0; break;
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: *value = f->maxDynamicShared; break;
    case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT: *value = f->carveout; break;
    case CU_FUNC_ATTRIBUTE_CLUSTER_SIZE_MUST_BE_SET: *value = 0; break;
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH:
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_HEIGHT:
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_DEPTH:
    case CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED:
    case CU_FUNC_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE: {
        auto it = f->settable.find(attribute);
        *value = it == f->settable.end() ? 0 : it->second;
        break;
    }
    default: return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}
