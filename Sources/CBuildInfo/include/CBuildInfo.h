#ifndef GEODNS_CBUILDINFO_H
#define GEODNS_CBUILDINFO_H

/// The git commit geodns was built from: GEODNS_GIT_COMMIT in the environment of the build (the
/// Makefile exports it; Package.swift turns it into a define for BuildInfo.c only, so a new
/// commit recompiles one C file), or "unknown" for a plain `swift build`.
const char *geodns_build_commit(void);

#endif
