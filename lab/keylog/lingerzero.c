/* lingerzero.c - LD_PRELOAD library: every TCP socket that connect()s gets
 * SO_LINGER {on, 0 s}, so close() ends the connection with a RST instead of a FIN
 * (an abortive close, as Windows RDP clients do). The lab uses it to record a
 * client that answers a server's refusal with a RST.
 * Build: gcc -O2 -Wall -shared -fPIC -o liblingerzero.so lingerzero.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    static int (*real)(int, const struct sockaddr *, socklen_t);
    if (real == NULL)
        real = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
    if (real == NULL)
        return -1;
    int type = 0;
    socklen_t tlen = sizeof type;
    if (addr != NULL && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6) &&
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 && type == SOCK_STREAM) {
        struct linger lg = { 1, 0 };
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    return real(fd, addr, len);
}
