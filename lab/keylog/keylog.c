/* keylog.c - LD_PRELOAD library that makes any OpenSSL 3 program write TLS secrets
 * in the NSS key log format (CLIENT_RANDOM, *_TRAFFIC_SECRET_*, EXPORTER_SECRET).
 *
 * Neither xfreerdp 2 nor xrdp 0.9 writes a key log, and OpenSSL 3.0 ignores
 * SSLKEYLOGFILE. This library interposes SSL_CTX_new, SSL_CTX_new_ex and SSL_new,
 * calls the real function and installs SSL_CTX_set_keylog_callback on the context.
 * Each line is appended to the file named by $RDPLAB_KEYLOG (opened with "a" per
 * line, so several processes, client and server, can share one file). Without
 * $RDPLAB_KEYLOG the library does nothing. Lab use only: the keys are throwaway.
 *
 * Build: gcc -O2 -Wall -shared -fPIC -o libkeylog.so keylog.c -ldl -lssl
 * Use:   RDPLAB_KEYLOG=/tmp/x.keys LD_PRELOAD=/path/libkeylog.so xfreerdp ...
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <openssl/ssl.h>

static void write_line(const SSL *ssl, const char *line)
{
    (void)ssl;
    const char *path = getenv("RDPLAB_KEYLOG");
    if (path == NULL || *path == '\0' || line == NULL)
        return;
    FILE *f = fopen(path, "a");
    if (f == NULL)
        return;
    fprintf(f, "%s\n", line);
    fclose(f);
}

static void install(SSL_CTX *ctx)
{
    if (ctx != NULL && getenv("RDPLAB_KEYLOG") != NULL &&
        SSL_CTX_get_keylog_callback(ctx) == NULL)
        SSL_CTX_set_keylog_callback(ctx, write_line);
}

SSL_CTX *SSL_CTX_new(const SSL_METHOD *method)
{
    static SSL_CTX *(*real)(const SSL_METHOD *);
    if (real == NULL)
        real = (SSL_CTX * (*)(const SSL_METHOD *)) dlsym(RTLD_NEXT, "SSL_CTX_new");
    if (real == NULL)
        return NULL;
    SSL_CTX *ctx = real(method);
    install(ctx);
    return ctx;
}

SSL_CTX *SSL_CTX_new_ex(OSSL_LIB_CTX *libctx, const char *propq, const SSL_METHOD *method)
{
    static SSL_CTX *(*real)(OSSL_LIB_CTX *, const char *, const SSL_METHOD *);
    if (real == NULL)
        real = (SSL_CTX * (*)(OSSL_LIB_CTX *, const char *, const SSL_METHOD *))
            dlsym(RTLD_NEXT, "SSL_CTX_new_ex");
    if (real == NULL)
        return NULL;
    SSL_CTX *ctx = real(libctx, propq, method);
    install(ctx);
    return ctx;
}

/* a context made before this library was in place (or by a path not interposed)
 * still gets the callback when its first SSL object is made */
SSL *SSL_new(SSL_CTX *ctx)
{
    static SSL *(*real)(SSL_CTX *);
    if (real == NULL)
        real = (SSL * (*)(SSL_CTX *)) dlsym(RTLD_NEXT, "SSL_new");
    if (real == NULL)
        return NULL;
    install(ctx);
    return real(ctx);
}
