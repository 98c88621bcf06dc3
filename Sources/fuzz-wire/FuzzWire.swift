import DNSWire
#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTest(_ start: UnsafeRawPointer, _ count: Int) -> CInt { 0 }
#else
@main struct FuzzWireReplay { static func main() {} }
#endif
