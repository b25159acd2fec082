/*
 * nfqdelay: tiny deterministic delay/drop queue for the rdpscope lab.
 *
 * Packets sent to NFQUEUE number Q (iptables -j NFQUEUE --queue-num Q) are
 * dropped with probability LOSS% (from a fixed-seed xorshift PRNG, so the
 * same packet sequence gives the same drops) and the others are accepted
 * after DELAY ms (held in the kernel queue, verdicts issued in FIFO order).
 * Optional -k N: never drop the first N packets (lets the TCP handshake
 * through so a lossy run still starts the same way).
 *
 * usage: nfqdelay -q Q [-d DELAY_MS] [-l LOSS_PERCENT] [-s SEED] [-k N]
 * Stops on SIGTERM/SIGINT (remaining held packets are accepted).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define MAXHELD 8192
static struct { uint32_t id; uint64_t due; } held[MAXHELD];
static unsigned head, tail;           /* FIFO: [head, tail) */
static uint64_t rng = 0x2545F4914F6CDD1DULL;
static int delay_ms, loss_pct, keep_first;
static unsigned long seen, dropped;
static volatile sig_atomic_t stop;

static uint64_t now_ms(void) {
  struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
static uint32_t xorshift(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)(rng >> 32);
}
static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *m,
                     struct nfq_data *nfa, void *data) {
  (void)m; (void)data;
  struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
  uint32_t id = ntohl(ph->packet_id);
  seen++;
  if ((long)seen > keep_first && loss_pct > 0 && (int)(xorshift() % 100) < loss_pct) {
    dropped++;
    return nfq_set_verdict(qh, id, NF_DROP, 0, NULL);
  }
  if (delay_ms == 0 || tail - head >= MAXHELD)
    return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
  held[tail % MAXHELD].id = id;
  held[tail % MAXHELD].due = now_ms() + delay_ms;
  tail++;
  return 0;
}
static void on_signal(int s) { (void)s; stop = 1; }

int main(int argc, char **argv) {
  int qnum = 0, opt; uint64_t seed = 1;
  while ((opt = getopt(argc, argv, "q:d:l:s:k:")) != -1) {
    switch (opt) {
    case 'q': qnum = atoi(optarg); break;
    case 'd': delay_ms = atoi(optarg); break;
    case 'l': loss_pct = atoi(optarg); break;
    case 's': seed = strtoull(optarg, NULL, 0); break;
    case 'k': keep_first = atoi(optarg); break;
    default:
      fprintf(stderr, "usage: %s -q Q [-d MS] [-l PCT] [-s SEED] [-k N]\n", argv[0]);
      return 2;
    }
  }
  rng ^= seed * 0x9E3779B97F4A7C15ULL; if (!rng) rng = 1;
  signal(SIGTERM, on_signal); signal(SIGINT, on_signal);

  struct nfq_handle *h = nfq_open();
  if (!h) { perror("nfq_open"); return 1; }
  struct nfq_q_handle *qh = nfq_create_queue(h, qnum, on_packet, NULL);
  if (!qh) { perror("nfq_create_queue"); return 1; }
  if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0) { perror("nfq_set_mode"); return 1; }
  nfq_set_queue_maxlen(qh, MAXHELD);
  int fd = nfq_fd(h);
  char buf[65536] __attribute__((aligned));
  fprintf(stderr, "nfqdelay: queue %d delay %d ms loss %d%% seed %llu keep %d\n",
          qnum, delay_ms, loss_pct, (unsigned long long)seed, keep_first);
  while (!stop) {
    uint64_t t = now_ms();
    while (head != tail && held[head % MAXHELD].due <= t) {
      nfq_set_verdict(qh, held[head % MAXHELD].id, NF_ACCEPT, 0, NULL);
      head++;
    }
    int timeout = head != tail ? (int)(held[head % MAXHELD].due - t) : 200;
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int r = poll(&p, 1, timeout < 0 ? 0 : timeout);
    if (r > 0) {
      int n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) nfq_handle_packet(h, buf, n);
      else if (n < 0 && errno == ENOBUFS) fprintf(stderr, "nfqdelay: ENOBUFS\n");
    }
  }
  while (head != tail) { nfq_set_verdict(qh, held[head % MAXHELD].id, NF_ACCEPT, 0, NULL); head++; }
  fprintf(stderr, "nfqdelay: %lu packets, %lu dropped\n", seen, dropped);
  nfq_destroy_queue(qh); nfq_close(h);
  return 0;
}
