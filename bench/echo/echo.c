// echo.c - the kernel floor for `make bench`: the cheapest UDP "server" there is. One thread,
// one socket, recvmmsg a batch (MSG_WAITFORONE, 64 slots, like geodns's UDP workers), set QR in
// each datagram's DNS header, put one empty TXT record (owner: a pointer to the question) after
// the question so the reply is a valid answer (the lab's liveness check wants one), and sendmmsg
// the batch straight back. No lookup, no encoding beyond that: its CPU per query is what the
// loopback UDP path costs on this machine, so (geodns - echo) is everything geodns adds.
// Loopback only: it binds 127.0.0.1.
//   usage: echo PORT
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { BATCH = 64, SLOT = 4096 };

// The answer record: owner 0xC00C (the question name), TXT IN, TTL 0, RDATA one empty string.
static const unsigned char RR[] = { 0xC0, 0x0C, 0x00, 0x10, 0x00, 0x01, 0, 0, 0, 0, 0x00, 0x01, 0x00 };

// Turns the query in p[0..len) into its reply in place; returns the reply length.
static unsigned reply(unsigned char *p, unsigned len) {
    if (len < 12) return len;
    p[2] |= 0x80;                                   // QR
    if (p[4] != 0 || p[5] != 1 || p[6] || p[7]) return len;   // one question, no answers
    unsigned i = 12;
    while (i < len && p[i] != 0) {                  // uncompressed question name
        if (p[i] & 0xC0) return len;
        i += 1u + p[i];
    }
    unsigned end = i + 5;                           // root byte, type, class
    if (end > len || len + sizeof RR > SLOT) return len;
    memmove(p + end + sizeof RR, p + end, len - end);
    memcpy(p + end, RR, sizeof RR);
    p[7] = 1;                                       // ANCOUNT
    return len + (unsigned)sizeof RR;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: echo PORT\n"); return 2; }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) { perror("socket"); return 1; }
    int rcvbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1])) };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) { perror("bind"); return 1; }
    static char buf[BATCH][SLOT];
    static struct sockaddr_in6 names[BATCH];
    static struct iovec iov[BATCH];
    static struct mmsghdr msgs[BATCH];
    for (;;) {
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){ .iov_base = buf[i], .iov_len = SLOT };
            msgs[i].msg_hdr = (struct msghdr){ .msg_name = &names[i], .msg_namelen = sizeof names[i],
                                               .msg_iov = &iov[i], .msg_iovlen = 1 };
        }
        int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
        if (n <= 0) continue;
        for (int i = 0; i < n; i++) iov[i].iov_len = reply((unsigned char *)buf[i], msgs[i].msg_len);
        for (int sent = 0; sent < n;) {
            int rc = sendmmsg(fd, msgs + sent, (unsigned)(n - sent), 0);
            sent += rc > 0 ? rc : 1;
        }
    }
}
