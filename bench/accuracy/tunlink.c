/*
 * tunlink: a userspace point-to-point link emulator between two TUN devices.
 *
 * The kernel here has no sch_netem, so the round-trip delay of the accuracy
 * bench comes from this program. Each direction has its own thread and its
 * own ring: packets read from one TUN device are stamped with CLOCK_MONOTONIC
 * and written to the other device once `delay` has elapsed. Rate is NOT set
 * here; tbf on each device's egress does that, so this program only has to
 * keep up (>= 1 Gbit/s of 1500-byte packets, ~83k packets/s per direction).
 *
 * Usage:
 *   tunlink -a NAME -b NAME [-d ONE_WAY_DELAY_US] [-l LOSS_FRACTION]
 *           [-n RING_SLOTS] [-s SEED]
 *
 * Both devices are created in the caller's network namespace with
 * IFF_TUN|IFF_NO_PI and MTU 1500; the caller then moves them into other
 * namespaces with `ip link set NAME netns NS` (the file descriptors stay
 * valid). "ready" is printed on stdout once both exist. The program exits on
 * SIGTERM/SIGINT, when its parent dies, or when stdin reaches EOF, so a
 * crashed harness cannot leave a forwarder running. Counters go to stderr on
 * exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SLOT_BYTES 2048 /* MTU 1500 fits; a power of two keeps slots aligned */
#define READ_BATCH 64   /* bound reads per wake-up so due packets are not starved */

struct slot {
    uint64_t due_ns;
    uint32_t len;
    uint8_t data[SLOT_BYTES - 12];
};

struct dir {
    const char *name;
    int in_fd, out_fd;
    uint64_t delay_ns;
    uint64_t loss_threshold; /* drop when rng() < threshold; 0 = no loss */
    uint64_t rng_state;
    struct slot *ring;
    uint32_t slots, head, count;
    /* counters, read by the main thread at exit */
    _Atomic uint64_t rx, tx, ring_drops, loss_drops, write_errors;
};

static atomic_int stop_flag;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t xorshift64(uint64_t *s) {
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static int tun_open(const char *name) {
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        perror("open /dev/net/tun");
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        fprintf(stderr, "TUNSETIFF %s: %s\n", name, strerror(errno));
        close(fd);
        return -1;
    }
    /* Non-blocking so one wake-up can drain every queued packet. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s >= 0) {
        memset(&ifr, 0, sizeof ifr);
        strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
        ifr.ifr_mtu = 1500;
        if (ioctl(s, SIOCSIFMTU, &ifr) < 0) fprintf(stderr, "SIOCSIFMTU %s: %s\n", name, strerror(errno));
        close(s);
    }
    return fd;
}

static void flush_due(struct dir *d, uint64_t now) {
    while (d->count > 0) {
        struct slot *sl = &d->ring[d->head];
        if (sl->due_ns > now) break;
        ssize_t w = write(d->out_fd, sl->data, sl->len);
        if (w < 0) {
            /* The receiving stack refused the packet (e.g. device down while
             * the harness reconfigures it): drop it as a real link would. */
            atomic_fetch_add_explicit(&d->write_errors, 1, memory_order_relaxed);
        } else {
            atomic_fetch_add_explicit(&d->tx, 1, memory_order_relaxed);
        }
        d->head = (d->head + 1) % d->slots;
        d->count--;
    }
}

static void *run_dir(void *arg) {
    struct dir *d = arg;
    struct pollfd pfd = {.fd = d->in_fd, .events = POLLIN};
    uint8_t scratch[SLOT_BYTES];

    while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
        uint64_t now = now_ns();
        flush_due(d, now);

        /* Sleep until a packet arrives or the head packet falls due, never
         * busy-poll: the bench machine has two cores and TCP needs them. A
         * 200 ms cap lets the thread notice stop_flag. */
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 200000000};
        if (d->count > 0) {
            uint64_t due = d->ring[d->head].due_ns;
            uint64_t wait = due > now ? due - now : 0;
            if (wait < 200000000ull) ts.tv_nsec = (long)wait;
        }
        int pr = ppoll(&pfd, 1, &ts, NULL);
        if (pr < 0) {
            if (errno == EINTR) continue;
            perror("ppoll");
            break;
        }
        if (pr == 0 || !(pfd.revents & POLLIN)) continue;

        /* One timestamp per batch: the batch arrived within one wake-up,
         * so the error is bounded by the time to drain it. */
        uint64_t stamp = now_ns();
        for (int i = 0; i < READ_BATCH; i++) {
            uint8_t *buf;
            struct slot *sl = NULL;
            if (d->count < d->slots) {
                sl = &d->ring[(d->head + d->count) % d->slots];
                buf = sl->data;
            } else {
                buf = scratch; /* ring full: read to discard (tail drop) */
            }
            ssize_t n = read(d->in_fd, buf, sizeof sl->data);
            if (n < 0) {
                if (errno != EAGAIN && errno != EINTR && errno != EIO)
                    fprintf(stderr, "%s read: %s\n", d->name, strerror(errno));
                break;
            }
            atomic_fetch_add_explicit(&d->rx, 1, memory_order_relaxed);
            if (!sl) {
                atomic_fetch_add_explicit(&d->ring_drops, 1, memory_order_relaxed);
                continue;
            }
            if (d->loss_threshold && xorshift64(&d->rng_state) < d->loss_threshold) {
                atomic_fetch_add_explicit(&d->loss_drops, 1, memory_order_relaxed);
                continue;
            }
            sl->len = (uint32_t)n;
            sl->due_ns = stamp + d->delay_ns;
            d->count++;
        }
        if (d->delay_ns == 0) flush_due(d, now_ns());
    }
    return NULL;
}

static void on_signal(int sig) {
    (void)sig;
    atomic_store(&stop_flag, 1);
}

static void usage(void) {
    fprintf(stderr, "usage: tunlink -a NAME -b NAME [-d ONE_WAY_DELAY_US] [-l LOSS_FRACTION] "
                    "[-n RING_SLOTS] [-s SEED]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *name_a = NULL, *name_b = NULL;
    double delay_us = 0, loss = 0;
    long slots = 16384; /* 24 MB per direction; holds > 250 ms at 1 Gbit/s */
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    int opt;
    while ((opt = getopt(argc, argv, "a:b:d:l:n:s:")) != -1) {
        switch (opt) {
        case 'a': name_a = optarg; break;
        case 'b': name_b = optarg; break;
        case 'd': delay_us = atof(optarg); break;
        case 'l': loss = atof(optarg); break;
        case 'n': slots = atol(optarg); break;
        case 's': seed = strtoull(optarg, NULL, 0) | 1; break;
        default: usage();
        }
    }
    if (!name_a || !name_b || delay_us < 0 || loss < 0 || loss >= 1 || slots < 16 || slots > (1 << 22))
        usage();

    prctl(PR_SET_PDEATHSIG, SIGTERM);
    /* The default 50 us slack would add up to 50 us of delay jitter per hop. */
    prctl(PR_SET_TIMERSLACK, 1000UL);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int fa = tun_open(name_a), fb = tun_open(name_b);
    if (fa < 0 || fb < 0) return 1;

    struct dir dirs[2];
    memset(dirs, 0, sizeof dirs);
    for (int i = 0; i < 2; i++) {
        struct dir *d = &dirs[i];
        d->name = i == 0 ? "a->b" : "b->a";
        d->in_fd = i == 0 ? fa : fb;
        d->out_fd = i == 0 ? fb : fa;
        d->delay_ns = (uint64_t)(delay_us * 1000.0);
        d->loss_threshold = loss > 0 ? (uint64_t)(loss * 18446744073709551615.0) : 0;
        d->rng_state = seed + (uint64_t)i * 0x632be59bd9b4e019ull;
        d->slots = (uint32_t)slots;
        d->ring = calloc((size_t)slots, sizeof(struct slot));
        if (!d->ring) {
            perror("calloc");
            return 1;
        }
    }

    printf("ready\n");
    fflush(stdout);

    pthread_t th[2];
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, run_dir, &dirs[i]);

    /* Stdin EOF means the harness is gone, but only when stdin is a pipe:
     * a shell's background job gets /dev/null, which is always at EOF. */
    struct stat st;
    int watch_stdin = fstat(STDIN_FILENO, &st) == 0 && S_ISFIFO(st.st_mode);
    struct pollfd pin = {.fd = watch_stdin ? STDIN_FILENO : -1, .events = POLLIN};
    char sink[256];
    while (!atomic_load(&stop_flag)) {
        int pr = poll(&pin, 1, 200);
        if (pr > 0 && (pin.revents & (POLLIN | POLLHUP))) {
            ssize_t n = read(STDIN_FILENO, sink, sizeof sink);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break;
        }
    }
    atomic_store(&stop_flag, 1);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);

    for (int i = 0; i < 2; i++) {
        struct dir *d = &dirs[i];
        fprintf(stderr,
                "tunlink %s: rx=%llu tx=%llu ring_drops=%llu loss_drops=%llu write_errors=%llu\n",
                d->name, (unsigned long long)d->rx, (unsigned long long)d->tx,
                (unsigned long long)d->ring_drops, (unsigned long long)d->loss_drops,
                (unsigned long long)d->write_errors);
    }
    return 0;
}
