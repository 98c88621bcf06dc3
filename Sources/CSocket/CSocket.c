#define _GNU_SOURCE
#include "CSocket.h"
#include <assert.h>

_Static_assert(sizeof(geodns_mmsghdr) == sizeof(struct mmsghdr), "mmsghdr layout");

int geodns_recvmmsg(int fd, geodns_mmsghdr *msgs, unsigned int vlen) {
    return recvmmsg(fd, (struct mmsghdr *)msgs, vlen, MSG_WAITFORONE, NULL);
}

int geodns_sendmmsg(int fd, geodns_mmsghdr *msgs, unsigned int vlen) {
    return sendmmsg(fd, (struct mmsghdr *)msgs, vlen, 0);
}

int geodns_msg_trunc(void) { return MSG_TRUNC; }
