// CMaxMindDB: libmaxminddb (Debian libmaxminddb-dev) as seen from Swift.
// MMDB_get_value is C-variadic, which Swift cannot call; the GeoIP target decodes records
// itself and uses the non-variadic entry points plus the small helpers below.
#ifndef CMAXMINDDB_SHIM_H
#define CMAXMINDDB_SHIM_H

#include <maxminddb.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

/// Looks up an IPv4 address given as its numeric value (192.0.2.1 == 0xC0000201).
static inline MMDB_lookup_result_s cmmdb_lookup_ipv4(const MMDB_s *mmdb, uint32_t address,
                                                     int *mmdb_error) {
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(address);
    return MMDB_lookup_sockaddr(mmdb, (const struct sockaddr *)&sin, mmdb_error);
}

/// Looks up an IPv6 address given as 16 bytes in network order.
static inline MMDB_lookup_result_s cmmdb_lookup_ipv6(const MMDB_s *mmdb, const uint8_t *bytes16,
                                                     int *mmdb_error) {
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    memcpy(sin6.sin6_addr.s6_addr, bytes16, 16);
    return MMDB_lookup_sockaddr(mmdb, (const struct sockaddr *)&sin6, mmdb_error);
}

/// Offset of the metadata section (just after the "\xAB\xCD\xEFMaxMind.com" marker) from the
/// start of the file; lets the Swift side check that the tree and data section end before it.
static inline int64_t cmmdb_metadata_offset(const MMDB_s *mmdb) {
    return (int64_t)(mmdb->metadata_section - mmdb->file_content);
}

/// Offset of the data section from the start of the file.
static inline int64_t cmmdb_data_section_offset(const MMDB_s *mmdb) {
    return (int64_t)(mmdb->data_section - mmdb->file_content);
}

#endif
