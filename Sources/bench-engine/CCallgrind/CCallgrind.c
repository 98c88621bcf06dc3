// Everything is in include/CCallgrind.h (static inline client requests).
#include "CCallgrind.h"
