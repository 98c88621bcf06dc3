// Callgrind client requests for bench-engine (no-ops when not run under valgrind): instrument
// and count only the measured loops, one dump per stage (`make bench-cost`, bench/cost/).
#ifndef GEODNS_CCALLGRIND_H
#define GEODNS_CCALLGRIND_H

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
static inline void geodns_callgrind_start(void) { CALLGRIND_START_INSTRUMENTATION; }
static inline void geodns_callgrind_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
static inline void geodns_callgrind_zero(void) { CALLGRIND_ZERO_STATS; }
static inline void geodns_callgrind_dump(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
static inline int geodns_running_on_valgrind(void) { return (int)RUNNING_ON_VALGRIND; }
#else
static inline void geodns_callgrind_start(void) {}
static inline void geodns_callgrind_stop(void) {}
static inline void geodns_callgrind_zero(void) {}
static inline void geodns_callgrind_dump(const char *label) { (void)label; }
static inline int geodns_running_on_valgrind(void) { return 0; }
#endif

#endif
