// host_data.h: what the smoke tests share on the host side: buffers aligned as cuMemAlloc's are
// (256 bytes, so a row's alignment is the shape's, not malloc's), and bf16 rounding and widening.
#pragma once
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

template <class T>
struct DeviceAllocator {
    using value_type = T;
    DeviceAllocator() = default;
    template <class U>
    DeviceAllocator(const DeviceAllocator<U>&) {}
    T* allocate(size_t n) { return static_cast<T*>(aligned_alloc(256, (n * sizeof(T) + 255) / 256 * 256)); }
    void deallocate(T* p, size_t) { free(p); }
    bool operator==(const DeviceAllocator&) const { return true; }
    bool operator!=(const DeviceAllocator&) const { return false; }
};
template <class T>
using DeviceVector = std::vector<T, DeviceAllocator<T>>;

// Round to nearest even (finite inputs).
inline uint16_t bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

inline float widen(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
