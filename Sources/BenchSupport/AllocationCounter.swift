// Heap-allocation counting for the benchmark programs (bench-wire, bench-engine). This module
// carries counting versions of malloc, calloc, realloc, aligned_alloc and posix_memalign
// (bench_counting_malloc, ...) that forward to glibc's __libc_* entry points. `make bench-wire`
// and `make bench-cost` link them in as the process's malloc & co. (COUNTING_MALLOC_LDFLAGS in
// the Makefile: `--defsym=malloc=bench_counting_malloc --export-dynamic-symbol=malloc`, ...), so
// the dynamic linker binds every library's calls, the Swift runtime's included, to them. No
// LD_PRELOAD; counts are exact calls, not bytes. Built without those flags the counter stays 0
// (each program checks and says so).
#if canImport(Glibc)
import Glibc
#endif

/// Calls to malloc & co. so far (when linked in as above).
nonisolated(unsafe) public var allocationCount: Int = 0

@_silgen_name("__libc_malloc") func libcMalloc(_ size: Int) -> UnsafeMutableRawPointer?
@_silgen_name("__libc_calloc") func libcCalloc(_ n: Int, _ size: Int) -> UnsafeMutableRawPointer?
@_silgen_name("__libc_realloc") func libcRealloc(_ p: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer?
@_silgen_name("__libc_memalign") func libcMemalign(_ alignment: Int, _ size: Int) -> UnsafeMutableRawPointer?

@_cdecl("bench_counting_malloc") public func countingMalloc(_ size: Int) -> UnsafeMutableRawPointer? {
    allocationCount &+= 1
    return libcMalloc(size)
}
@_cdecl("bench_counting_calloc") public func countingCalloc(_ n: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    allocationCount &+= 1
    return libcCalloc(n, size)
}
@_cdecl("bench_counting_realloc") public func countingRealloc(_ p: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
    allocationCount &+= 1
    return libcRealloc(p, size)
}
@_cdecl("bench_counting_aligned_alloc") public func countingAlignedAlloc(_ alignment: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    allocationCount &+= 1
    return libcMemalign(alignment, size)
}
@_cdecl("bench_counting_posix_memalign") public func countingPosixMemalign(_ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ alignment: Int, _ size: Int) -> Int32 {
    allocationCount &+= 1
    guard let p = libcMemalign(alignment, size) else { return ENOMEM }
    out.pointee = p
    return 0
}

/// CLOCK_MONOTONIC in nanoseconds.
public func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
