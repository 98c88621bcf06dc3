// Batched datagram syscalls (recvmmsg/sendmmsg) for the UDP workers. Glibc's Swift module does
// not expose them (they need _GNU_SOURCE), so they are declared here through thin wrappers.
#ifndef GEODNS_CSOCKET_H
#define GEODNS_CSOCKET_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/uio.h>

/// One datagram slot of a batch: the kernel's struct mmsghdr, spelled for Swift.
typedef struct geodns_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
} geodns_mmsghdr;

/// recvmmsg(2) with MSG_WAITFORONE: blocks for the first datagram, then takes what is queued.
int geodns_recvmmsg(int fd, geodns_mmsghdr *msgs, unsigned int vlen);
/// sendmmsg(2).
int geodns_sendmmsg(int fd, geodns_mmsghdr *msgs, unsigned int vlen);
/// MSG_TRUNC as an int.
int geodns_msg_trunc(void);

#endif
