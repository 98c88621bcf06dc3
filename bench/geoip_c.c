/* The C side of `make bench-geoip`: the same loop as Sources/bench-geoip, written directly
 * against libmaxminddb (gcc -O2). For N random IPv4 addresses (xorshift32, same seed as the
 * Swift side) it looks the address up and reads the fields a GeoRecord holds: continent.code,
 * country.iso_code, subdivisions[0..1].iso_code, location.latitude/longitude and
 * autonomous_system_number. It prints "<lookups per second> <checksum>"; the checksum is
 * computed the same way on both sides, so equal checksums mean equal answers.
 *
 * usage: geoip_c DB COUNT [tree]    ("tree": the tree walk only, no field reads)
 */
#include <maxminddb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static uint32_t state = 2463534242u;
static inline uint32_t xorshift32(void) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *p_continent[] = {"continent", "code", NULL};
static const char *p_country[] = {"country", "iso_code", NULL};
static const char *p_sub0[] = {"subdivisions", "0", "iso_code", NULL};
static const char *p_sub1[] = {"subdivisions", "1", "iso_code", NULL};
static const char *p_lat[] = {"location", "latitude", NULL};
static const char *p_lon[] = {"location", "longitude", NULL};
static const char *p_asn[] = {"autonomous_system_number", NULL};

static inline int found(MMDB_entry_s *entry, const char *const *path, MMDB_entry_data_s *data) {
    return MMDB_aget_value(entry, data, path) == MMDB_SUCCESS && data->has_data;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s DB COUNT [tree]\n", argv[0]);
        return 2;
    }
    MMDB_s mmdb;
    int status = MMDB_open(argv[1], MMDB_MODE_MMAP, &mmdb);
    if (status != MMDB_SUCCESS) {
        fprintf(stderr, "%s: %s\n", argv[1], MMDB_strerror(status));
        return 1;
    }
    long count = atol(argv[2]);
    int tree_only = argc > 3 && strcmp(argv[3], "tree") == 0;
    int ipv6_tree = mmdb.metadata.ip_version == 6;
    uint64_t checksum = 0;
    double start = now();
    for (long i = 0; i < count; i++) {
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(xorshift32());
        int error = 0;
        MMDB_lookup_result_s result = MMDB_lookup_sockaddr(&mmdb, (const struct sockaddr *)&sin, &error);
        if (error != MMDB_SUCCESS) continue;
        int prefix = result.netmask;
        if (ipv6_tree) prefix = prefix > 96 ? prefix - 96 : 0;
        checksum += (uint64_t)prefix;
        if (!result.found_entry || tree_only) continue;
        MMDB_entry_data_s data;
        if (found(&result.entry, p_continent, &data) && data.type == MMDB_DATA_TYPE_UTF8_STRING && data.data_size > 0)
            checksum += (uint8_t)data.utf8_string[0];
        if (found(&result.entry, p_country, &data) && data.type == MMDB_DATA_TYPE_UTF8_STRING && data.data_size > 0)
            checksum += (uint8_t)data.utf8_string[0];
        if (found(&result.entry, p_sub0, &data)) checksum += 1;
        if (found(&result.entry, p_sub1, &data)) checksum += 1;
        if (found(&result.entry, p_lat, &data) && data.type == MMDB_DATA_TYPE_DOUBLE) checksum += 3;
        if (found(&result.entry, p_lon, &data) && data.type == MMDB_DATA_TYPE_DOUBLE) checksum += 5;
        if (found(&result.entry, p_asn, &data) && data.type == MMDB_DATA_TYPE_UINT32) checksum += data.uint32;
    }
    double elapsed = now() - start;
    printf("%.0f %llu\n", (double)count / elapsed, (unsigned long long)checksum);
    MMDB_close(&mmdb);
    return 0;
}
