#include "CBuildInfo.h"

#ifndef GEODNS_GIT_COMMIT
#define GEODNS_GIT_COMMIT "unknown"
#endif

const char *geodns_build_commit(void) { return GEODNS_GIT_COMMIT; }
