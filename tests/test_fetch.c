// test_fetch.c: `lrscope fetch` end to end against a tiny HTTP/1.1 server
// this test runs on a thread, bound to 127.0.0.1 only on an ephemeral port:
// good, truncated, wrongly checksummed and malicious archives, a dropped
// connection that must resume with a Range request, a server that ignores
// Range, and an unreachable URL. Also MD5 against RFC 1321's test vectors.
#include "test_util.h"

#include "../src/cli/commands.h"
#include "../src/data/dataset.h"
#include "../src/fetch/fetch.h"
#include "../src/fetch/md5.h"
#include "../src/fetch/sources.h"
#include "../src/fetch/unpack.h"
#include "../src/util/fsutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <zlib.h>

// ---------------------------------------------------------------- server

enum { MAX_SERVED = 8, MAX_LOGGED = 32 };

typedef struct {
    char path[128];
    const uint8_t *data;
    size_t len;
} served_file;

typedef struct {
    int fd, port;
    pthread_t thread;
    pthread_mutex_t mu;
    int stop;
    served_file files[MAX_SERVED];
    int n_files;
    long long cut_after;   // bytes of body sent before closing ...
    int cut_requests;      // ... for this many more requests
    int ignore_range;      // answer 200 with the whole file even to Range
    long long announce;    // > 0: the Content-Length a 200 answer claims, whatever it sends
    int no_length;         // send a 200 answer with no Content-Length (ends at close)
    int requests;
    char ranges[MAX_LOGGED][64]; // Range header of each request, "" if none
    char paths[MAX_LOGGED][128];
    uint8_t *owned[MAX_LOGGED];  // copies of the served bytes, freed at stop
    int n_owned;
} http_server;

static void send_all(int c, const void *p, size_t n) {
    const char *s = p;
    while (n > 0) {
        ssize_t k = send(c, s, n, MSG_NOSIGNAL);
        if (k <= 0) return;
        s += k;
        n -= (size_t)k;
    }
}

static void serve_one(http_server *s, int c) {
    struct timeval tv = {5, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[8192];
    size_t n = 0;
    while (n < sizeof req - 1) {
        ssize_t k = recv(c, req + n, sizeof req - 1 - n, 0);
        if (k <= 0) return;
        n += (size_t)k;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n")) break;
    }
    char path[128] = "";
    if (sscanf(req, "GET %127s HTTP/1.1", path) != 1) return;
    char range[64] = "";
    for (char *line = strstr(req, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Range:", 6) == 0) {
            sscanf(line + 8, " %63[^\r]", range);
            break;
        }
    }
    pthread_mutex_lock(&s->mu);
    int idx = s->requests++;
    if (idx < MAX_LOGGED) {
        snprintf(s->ranges[idx], sizeof s->ranges[idx], "%s", range);
        snprintf(s->paths[idx], sizeof s->paths[idx], "%s", path);
    }
    const served_file *f = NULL;
    for (int i = 0; i < s->n_files; i++)
        if (strcmp(s->files[i].path, path) == 0) f = &s->files[i];
    int ignore = s->ignore_range;
    long long announce = s->announce;
    int no_length = s->no_length;
    long long cut = -1;
    if (s->cut_requests > 0) {
        s->cut_requests--;
        cut = s->cut_after;
    }
    pthread_mutex_unlock(&s->mu);

    char head[512];
    if (!f) {
        const char *body = "not found\n";
        int h = snprintf(head, sizeof head, "HTTP/1.1 404 Not Found\r\nContent-Length: %zu\r\n"
                                            "Connection: close\r\n\r\n", strlen(body));
        send_all(c, head, (size_t)h);
        send_all(c, body, strlen(body));
        return;
    }
    long long from = 0;
    int partial = range[0] && !ignore && sscanf(range, "bytes=%lld-", &from) == 1;
    if (partial && from >= (long long)f->len) {
        int h = snprintf(head, sizeof head, "HTTP/1.1 416 Range Not Satisfiable\r\n"
                                            "Content-Range: bytes */%zu\r\nContent-Length: 0\r\n"
                                            "Connection: close\r\n\r\n", f->len);
        send_all(c, head, (size_t)h);
        return;
    }
    if (!partial) from = 0;
    size_t body = f->len - (size_t)from;
    int h = !partial && (announce > 0 || no_length)
        ? (no_length ? snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                     : snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\n"
                                "Connection: close\r\n\r\n", announce))
        : partial
        ? snprintf(head, sizeof head, "HTTP/1.1 206 Partial Content\r\nContent-Length: %zu\r\n"
                   "Content-Range: bytes %lld-%zu/%zu\r\nConnection: close\r\n\r\n",
                   body, from, f->len - 1, f->len)
        : snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
                   "Accept-Ranges: bytes\r\nConnection: close\r\n\r\n", body);
    send_all(c, head, (size_t)h);
    size_t send_len = cut >= 0 && (size_t)cut < body ? (size_t)cut : body;
    send_all(c, f->data + from, send_len);
}

static void *server_main(void *arg) {
    http_server *s = arg;
    for (int rounds = 0; rounds < 100000; rounds++) { // 100 ms each: bounded
        pthread_mutex_lock(&s->mu);
        int stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop) break;
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0) continue;
        serve_one(s, c);
        shutdown(c, SHUT_RDWR);
        close(c);
    }
    return NULL;
}

// Binds 127.0.0.1:0 (never any other address) and starts the thread.
static http_server *server_start(void) {
    http_server *s = calloc(1, sizeof *s);
    assert_non_null(s);
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->fd, 16), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    s->cut_after = -1;
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
    return s;
}

static void server_stop(http_server *s) {
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    close(s->fd);
    for (int i = 0; i < s->n_owned; i++) free(s->owned[i]);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

// Serves a copy of data at path. Everything the test thread and the server
// thread share goes through the mutex (sockets give no happens-before that
// ThreadSanitizer can see).
static void server_add(http_server *s, const char *path, const uint8_t *data, size_t len) {
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, data, len);
    pthread_mutex_lock(&s->mu);
    assert_true(s->n_files < MAX_SERVED && s->n_owned < MAX_LOGGED);
    s->owned[s->n_owned++] = copy;
    served_file *f = &s->files[s->n_files++];
    snprintf(f->path, sizeof f->path, "%s", path);
    f->data = copy;
    f->len = len;
    pthread_mutex_unlock(&s->mu);
}

static void server_clear(http_server *s) {
    pthread_mutex_lock(&s->mu);
    s->n_files = 0;
    pthread_mutex_unlock(&s->mu);
}

// The next cut_requests responses stop after cut_after body bytes.
static void server_cut(http_server *s, long long cut_after, int cut_requests, int ignore_range) {
    pthread_mutex_lock(&s->mu);
    s->cut_after = cut_after;
    s->cut_requests = cut_requests;
    s->ignore_range = ignore_range;
    pthread_mutex_unlock(&s->mu);
}

// Answers lie about (announce > 0) or omit (no_length) the Content-Length.
static void server_lie(http_server *s, long long announce, int no_length) {
    pthread_mutex_lock(&s->mu);
    s->announce = announce;
    s->no_length = no_length;
    pthread_mutex_unlock(&s->mu);
}

static int server_requests(http_server *s) {
    pthread_mutex_lock(&s->mu);
    int n = s->requests;
    pthread_mutex_unlock(&s->mu);
    return n;
}

// Range header (or path) of request i, as logged.
static void assert_logged(http_server *s, int i, int want_path, const char *want) {
    char got[128];
    pthread_mutex_lock(&s->mu);
    assert_true(i < s->requests && i < MAX_LOGGED);
    snprintf(got, sizeof got, "%s", want_path ? s->paths[i] : s->ranges[i]);
    pthread_mutex_unlock(&s->mu);
    assert_string_equal(got, want);
}

// A port nothing listens on: bound, read, closed.
static int closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

// ---------------------------------------------------------------- archives

typedef struct {
    const char *name;
    int type;            // AE_IFREG, AE_IFDIR, AE_IFLNK; 'h' for a hard link
    const char *target;  // link target
    const uint8_t *data;
    size_t len;
} tar_member;

// Writes a .tar.gz of the members into a malloc'd buffer.
static uint8_t *make_targz(const tar_member *m, int n, size_t *out_len) {
    size_t cap = 4 << 20;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    struct archive *a = archive_write_new();
    assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    size_t used = 0;
    assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
    for (int i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, m[i].name);
        archive_entry_set_perm(e, 0644);
        if (m[i].type == 'h') {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_hardlink(e, m[i].target);
            archive_entry_set_size(e, 0);
        } else if (m[i].type == AE_IFLNK) {
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, m[i].target);
            archive_entry_set_size(e, 0);
        } else if (m[i].type == AE_IFDIR) {
            archive_entry_set_filetype(e, AE_IFDIR);
            archive_entry_set_perm(e, 0755);
            archive_entry_set_size(e, 0);
        } else {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, (la_int64_t)m[i].len);
        }
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        if (m[i].type == AE_IFREG && m[i].len)
            assert_int_equal(archive_write_data(a, m[i].data, m[i].len), (la_ssize_t)m[i].len);
        archive_entry_free(e);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    *out_len = used;
    return buf;
}

static void md5_hex_of(const void *p, size_t n, char hex[MD5_HEX_LEN + 1]) {
    md5_ctx c;
    md5_init(&c);
    md5_update(&c, p, n);
    md5_final_hex(&c, hex);
}

// Pseudo-random bytes (incompressible, so archives are large enough to cut).
static void fill_bytes(uint8_t *p, size_t n, uint32_t seed) {
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

enum { BATCH_BYTES = 12000 };

// A CIFAR-10-layout archive: six small batches plus the names file.
typedef struct {
    uint8_t batches[6][BATCH_BYTES];
    uint8_t *targz;
    size_t len;
    char md5[MD5_HEX_LEN + 1];
} cifar_archive;

static const char *BATCH_NAMES[6] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                     "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};

// extra members (malicious ones) are added after the good ones; drop_last
// leaves test_batch.bin out.
static cifar_archive *make_cifar_archive(const tar_member *extra, int n_extra, int drop_last) {
    cifar_archive *ca = calloc(1, sizeof *ca);
    assert_non_null(ca);
    tar_member m[16];
    char names[6][64];
    int n = 0;
    m[n++] = (tar_member){"cifar-10-batches-bin", AE_IFDIR, NULL, NULL, 0};
    for (int b = 0; b < 6 - drop_last; b++) {
        fill_bytes(ca->batches[b], BATCH_BYTES, (uint32_t)b + 1);
        snprintf(names[b], sizeof names[b], "cifar-10-batches-bin/%s", BATCH_NAMES[b]);
        m[n++] = (tar_member){names[b], AE_IFREG, NULL, ca->batches[b], BATCH_BYTES};
    }
    static const char meta[] = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";
    m[n++] = (tar_member){"cifar-10-batches-bin/batches.meta.txt", AE_IFREG, NULL,
                          (const uint8_t *)meta, sizeof meta - 1};
    for (int i = 0; i < n_extra; i++) m[n++] = extra[i];
    ca->targz = make_targz(m, n, &ca->len);
    md5_hex_of(ca->targz, ca->len, ca->md5);
    return ca;
}

static void free_cifar_archive(cifar_archive *ca) {
    free(ca->targz);
    free(ca);
}

// ---------------------------------------------------------------- fixture

typedef struct {
    char tmp[1024];
    char root[1100];
    http_server *srv;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    test_mkdtemp(f->tmp, sizeof f->tmp);
    snprintf(f->root, sizeof f->root, "%s/data", f->tmp);
    f->srv = server_start();
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    server_stop(f->srv);
    test_rmtree(f->tmp);
    free(f);
    return 0;
}

static void url_of(const fixture *f, const char *path, char *out, size_t cap) {
    snprintf(out, cap, "http://127.0.0.1:%d%s", f->srv->port, path);
}

static long long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void assert_file_is(const char *path, const uint8_t *data, size_t len) {
    char *got;
    size_t n;
    lr_err e;
    if (fs_read_all(path, &got, &n, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(n, len);
    assert_memory_equal(got, data, len);
    free(got);
}

// No temporary unpacking folder is left in root.
static void assert_no_dataset_tmp(const fixture *f) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "ls -a '%s' 2>/dev/null | grep -q unpack", f->root);
    assert_int_not_equal(system(cmd), 0);
}

// Nothing of the data set is left in root: no folder, no temporary folder.
static void assert_no_dataset(const fixture *f) {
    char path[2048];
    snprintf(path, sizeof path, "%s/cifar-10-batches-bin", f->root);
    assert_false(fs_exists(path));
    assert_no_dataset_tmp(f);
}

static void assert_contains(const char *msg, const char *part) {
    if (!strstr(msg, part)) fail_msg("message lacks \"%s\": %s", part, msg);
}

static void assert_dataset_complete(const fixture *f, const cifar_archive *ca) {
    for (int b = 0; b < 6; b++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/cifar-10-batches-bin/%s", f->root, BATCH_NAMES[b]);
        assert_file_is(path, ca->batches[b], BATCH_BYTES);
    }
    char stage[2048];
    snprintf(stage, sizeof stage, "%s/.cifar-10-batches-bin.download", f->root);
    assert_false(fs_exists(stage));
}

// ---------------------------------------------------------------- tests

// Fetches CIFAR-10 from PATH on the test server with checksum md5; fails the
// test with fetch's message if it does not succeed.
static void fetch_must(fixture *f, const char *path, const char *md5) {
    char url[256];
    url_of(f, path, url, sizeof url);
    fetch_options o = {url, md5, 1};
    lr_err e;
    if (fetch_dataset("cifar10", f->root, &o, &e) != 0) fail_msg("%s", e.msg);
}

static void test_md5_rfc1321_vectors(void **state) {
    (void)state;
    static const char *vec[][2] = {
        {"", "d41d8cd98f00b204e9800998ecf8427e"},
        {"a", "0cc175b9c0f1b6a831c399e269772661"},
        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
         "d174ab98d277d9f5a5611c2c9f419d9f"},
        {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
         "57edf4a22be3c955ac49da2e2107b67a"},
    };
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        char hex[MD5_HEX_LEN + 1];
        md5_hex_of(vec[i][0], strlen(vec[i][0]), hex);
        assert_string_equal(hex, vec[i][1]);
    }
    // Fed in odd-sized pieces across block boundaries: same digest.
    uint8_t buf[1000];
    fill_bytes(buf, sizeof buf, 7);
    char whole[MD5_HEX_LEN + 1], pieces[MD5_HEX_LEN + 1];
    md5_hex_of(buf, sizeof buf, whole);
    md5_ctx c;
    md5_init(&c);
    for (size_t off = 0, step = 1; off < sizeof buf; off += step, step = step % 97 + 13)
        md5_update(&c, buf + off, off + step > sizeof buf ? sizeof buf - off : step);
    md5_final_hex(&c, pieces);
    assert_string_equal(whole, pieces);
    assert_true(md5_is_hex("C32A1D4AB5D03F1284B67883E8D87530"));
    assert_false(md5_is_hex("c32a1d4ab5d03f1284b67883e8d8753"));
    assert_false(md5_is_hex("c32a1d4ab5d03f1284b67883e8d8753g"));
}

static void test_unpack_path_rules(void **state) {
    (void)state;
    assert_null(unpack_path_problem("cifar-10-batches-bin/data_batch_1.bin"));
    assert_null(unpack_path_problem("./a/b..c/..d"));
    assert_non_null(unpack_path_problem(""));
    assert_non_null(unpack_path_problem("/tmp/x"));
    assert_non_null(unpack_path_problem(".."));
    assert_non_null(unpack_path_problem("a/../../b"));
    assert_non_null(unpack_path_problem("a/.."));
}

static void test_sources_match_dataset_table(void **state) {
    (void)state;
    for (int i = 0; i < sources_count(); i++) {
        const fetch_source *s = sources_at(i);
        char names[128];
        snprintf(names, sizeof names, "%s", s->datasets);
        for (char *tok = strtok(names, ", "); tok; tok = strtok(NULL, ", ")) {
            const dataset_info *info = dataset_find(tok);
            if (!info) fail_msg("source %s names unknown data set %s", s->folder, tok);
            assert_string_equal(info->folder, s->folder);
        }
        assert_true(s->n_files >= 1 && s->expect[0] != NULL && s->mirrors[0] != NULL);
        for (int k = 0; k < s->n_files; k++) assert_true(md5_is_hex(s->files[k].md5));
    }
    const fetch_source *c10 = sources_find("cifar-10-batches-bin");
    assert_non_null(c10);
    assert_string_equal(c10->files[0].md5, "c32a1d4ab5d03f1284b67883e8d87530");
    assert_int_equal(c10->files[0].size, 170052171);
    assert_string_equal(sources_find("cifar-100-binary")->files[0].md5,
                        "03b5dce01913d631647c71ecec9e9cb8");
}

static void test_fetch_good_archive(void **state) {
    fixture *f = *state;
    cifar_archive *ca = make_cifar_archive(NULL, 0, 0);
    server_add(f->srv, "/c10.tar.gz", ca->targz, ca->len);
    char url[256];
    url_of(f, "/c10.tar.gz", url, sizeof url);
    fetch_options o = {url, ca->md5, 0}; // not quiet: the plain progress lines run too
    lr_err e;
    if (fetch_dataset("cifar10", f->root, &o, &e) != 0) fail_msg("%s", e.msg);
    assert_dataset_complete(f, ca);
    assert_no_dataset_tmp(f);
    assert_int_equal(server_requests(f->srv), 1);
    assert_logged(f->srv, 0, 0, "");
    // Already complete: nothing is downloaded again.
    o.quiet = 1;
    assert_int_equal(fetch_dataset("cifar10", f->root, &o, &e), 0);
    assert_int_equal(server_requests(f->srv), 1);
    // And the real loader's name table reads what fetch put there.
    assert_non_null(dataset_find("cifar10"));
    free_cifar_archive(ca);
}

static void test_fetch_wrong_checksum(void **state) {
    fixture *f = *state;
    cifar_archive *ca = make_cifar_archive(NULL, 0, 0);
    server_add(f->srv, "/c10.tar.gz", ca->targz, ca->len);
    char url[256];
    url_of(f, "/c10.tar.gz", url, sizeof url);
    const char *wrong = "0123456789abcdef0123456789abcdef";
    fetch_options o = {url, wrong, 1};
    lr_err e;
    assert_int_equal(fetch_dataset("cifar10", f->root, &o, &e), -1);
    assert_contains(e.msg, "checksum mismatch");
    assert_contains(e.msg, wrong);
    assert_contains(e.msg, ca->md5);
    assert_contains(e.msg, "deleted");
    assert_contains(e.msg, url);
    char partial[2048];
    snprintf(partial, sizeof partial, "%s/.cifar-10-batches-bin.download/cifar-10-binary.tar.gz.partial",
             f->root);
    assert_false(fs_exists(partial));
    assert_no_dataset(f);
    free_cifar_archive(ca);
}

static void test_fetch_truncated_archive(void **state) {
    fixture *f = *state;
    cifar_archive *ca = make_cifar_archive(NULL, 0, 0);
    size_t cut = ca->len / 2;
    char md5[MD5_HEX_LEN + 1];
    md5_hex_of(ca->targz, cut, md5); // served whole and checksummed: only unpacking can tell
    server_add(f->srv, "/c10.tar.gz", ca->targz, cut);
    char url[256];
    url_of(f, "/c10.tar.gz", url, sizeof url);
    fetch_options o = {url, md5, 1};
    lr_err e;
    assert_int_equal(fetch_dataset("cifar10", f->root, &o, &e), -1);
    assert_contains(e.msg, "cifar-10-binary.tar.gz");
    assert_contains(e.msg, "damaged");
    assert_no_dataset(f);
    free_cifar_archive(ca);
}

static void test_fetch_archive_lacking_files(void **state) {
    fixture *f = *state;
    cifar_archive *ca = make_cifar_archive(NULL, 0, 1);
    server_add(f->srv, "/c10.tar.gz", ca->targz, ca->len);
    char url[256];
    url_of(f, "/c10.tar.gz", url, sizeof url);
    fetch_options o = {url, ca->md5, 1};
    lr_err e;
    assert_int_equal(fetch_dataset("cifar10", f->root, &o, &e), -1);
    assert_contains(e.msg, "lacks cifar-10-batches-bin/test_batch.bin");
    assert_no_dataset(f);
    free_cifar_archive(ca);
}

// Each malicious member is refused with its name; nothing lands anywhere.
static void check_malicious(fixture *f, tar_member evil, const char *outside) {
    cifar_archive *ca = make_cifar_archive(&evil, 1, 0);
    server_add(f->srv, "/c10.tar.gz", ca->targz, ca->len);
    char url[256];
    url_of(f, "/c10.tar.gz", url, sizeof url);
    fetch_options o = {url, ca->md5, 1};
    lr_err e;
    assert_int_equal(fetch_dataset("cifar10", f->root, &o, &e), -1);
    assert_contains(e.msg, evil.name);
    assert_contains(e.msg, "refusing");
    assert_no_dataset(f);
    if (outside) assert_false(fs_exists(outside));
    server_clear(f->srv);
    free_cifar_archive(ca);
}

static void test_fetch_refuses_dotdot(void **state) {
    fixture *f = *state;
    static const uint8_t x[] = "pwned";
    char outside[2048];
    snprintf(outside, sizeof outside, "%s/evil", f->root); // where both would land
    check_malicious(f, (tar_member){"cifar-10-batches-bin/../../evil", AE_IFREG, NULL, x, 5},
                    outside);
    check_malicious(f, (tar_member){"../evil", AE_IFREG, NULL, x, 5}, outside);
}

static void test_fetch_refuses_absolute(void **state) {
    fixture *f = *state;
    static const uint8_t x[] = "pwned";
    char abs_path[256];
    snprintf(abs_path, sizeof abs_path, "/tmp/lrscope-evil-%ld", (long)getpid());
    check_malicious(f, (tar_member){abs_path, AE_IFREG, NULL, x, 5}, abs_path);
}

static void test_fetch_refuses_links_outside(void **state) {
    fixture *f = *state;
    char outside[2048];
    snprintf(outside, sizeof outside, "%s/outside", f->tmp);
    check_malicious(f, (tar_member){"cifar-10-batches-bin/up", AE_IFLNK, "../../outside", NULL, 0},
                    NULL);
    check_malicious(f, (tar_member){"cifar-10-batches-bin/etc", AE_IFLNK, "/etc", NULL, 0}, NULL);
    check_malicious(f, (tar_member){"cifar-10-batches-bin/hard", 'h', "../../outside", NULL, 0},
                    outside);
    // A link that stays inside is fine.
    tar_member ok = {"cifar-10-batches-bin/alias.bin", AE_IFLNK, "data_batch_1.bin", NULL, 0};
    cifar_archive *ca = make_cifar_archive(&ok, 1, 0);
    server_add(f->srv, "/ok.tar.gz", ca->targz, ca->len);
    fetch_must(f, "/ok.tar.gz", ca->md5);
    assert_dataset_complete(f, ca);
    free_cifar_archive(ca);
}

static void test_fetch_resumes_after_dropped_connection(void **state) {
    fixture *f = *state;
    cifar_archive *ca = make_cifar_archive(NULL, 0, 0);
    assert_true(ca->len > 20000);
    server_add(f->srv, "/c10.tar.gz", ca->targz, ca->len);
    server_cut(f->srv, 10000, 1, 0);
    fetch_must(f, "/c10.tar.gz", ca->md5);
    assert_int_equal(server_requests(f->srv), 2);
    assert_logged(f->srv, 0, 0, "");
    assert_logged(f->srv, 1, 0, "bytes=10000-");
    assert_dataset_complete(f, ca);
    free_cifar_archive(ca);
}

static void test_fetch_resumes_in_next_run(void **state) {
    fixture *f = *state;
    cifar_archive *ca = make_cifar_archive(NULL, 0, 0);
    server_add(f->srv, "/c10.tar.gz", ca->targz, ca->len);
    server_cut(f->srv, 2000, 1000, 0); // every request drops: the run gives up
    char url[256];
    url_of(f, "/c10.tar.gz", url, sizeof url);
    fetch_options o = {url, ca->md5, 1};
    lr_err e;
    assert_int_equal(fetch_dataset("cifar10", f->root, &o, &e), -1);
    assert_contains(e.msg, url);
    assert_contains(e.msg, "by hand");
    int first_run = server_requests(f->srv);
    assert_true(first_run >= 2 && first_run <= 10); // retried, but boundedly
    char partial[2048];
    snprintf(partial, sizeof partial, "%s/.cifar-10-batches-bin.download/cifar-10-binary.tar.gz.partial",
             f->root);
    long long have = file_size(partial);
    assert_int_equal(have, 2000LL * first_run);
    assert_no_dataset(f);

    server_cut(f->srv, -1, 0, 0);
    if (fetch_dataset("cifar10", f->root, &o, &e) != 0) fail_msg("%s", e.msg);
    char want[64];
    snprintf(want, sizeof want, "bytes=%lld-", have);
    assert_logged(f->srv, first_run, 0, want);
    assert_int_equal(server_requests(f->srv), first_run + 1);
    assert_dataset_complete(f, ca);
    free_cifar_archive(ca);
}

static void test_fetch_restarts_when_range_ignored(void **state) {
    fixture *f = *state;
    cifar_archive *ca = make_cifar_archive(NULL, 0, 0);
    server_add(f->srv, "/c10.tar.gz", ca->targz, ca->len);
    server_cut(f->srv, 5000, 1, 1);
    fetch_must(f, "/c10.tar.gz", ca->md5);
    int n = server_requests(f->srv);
    assert_true(n >= 2 && n <= 4);
    assert_logged(f->srv, 1, 0, "bytes=5000-");
    assert_dataset_complete(f, ca);
    free_cifar_archive(ca);
}

// Leaves len bytes of data as the CIFAR-10 download's partial file, as an
// earlier, interrupted fetch would have.
static void put_partial(fixture *f, const void *data, size_t len) {
    char stage[2048], partial[2100];
    snprintf(stage, sizeof stage, "%s/.cifar-10-batches-bin.download", f->root);
    snprintf(partial, sizeof partial, "%s/cifar-10-binary.tar.gz.partial", stage);
    lr_err e;
    assert_int_equal(fs_mkdirs(stage, &e), 0);
    test_write_file(partial, data, len);
}

// A partial file holding bytes of some other copy: resumed, fails the
// checksum, then downloaded again from the start.
static void test_fetch_restarts_after_bad_resume(void **state) {
    fixture *f = *state;
    cifar_archive *ca = make_cifar_archive(NULL, 0, 0);
    server_add(f->srv, "/c10.tar.gz", ca->targz, ca->len);
    uint8_t junk[300];
    memset(junk, 'x', sizeof junk);
    put_partial(f, junk, sizeof junk);
    lr_err e;
    char url[256];
    url_of(f, "/c10.tar.gz", url, sizeof url);
    fetch_options o = {url, ca->md5, 1};
    if (fetch_dataset("cifar10", f->root, &o, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(server_requests(f->srv), 2);
    assert_logged(f->srv, 0, 0, "bytes=300-");
    assert_logged(f->srv, 1, 0, "");
    assert_dataset_complete(f, ca);
    free_cifar_archive(ca);
}

// A partial file that is already whole: the server answers 416 to the
// resume, and the checksum decides.
static void test_fetch_whole_partial_gets_416(void **state) {
    fixture *f = *state;
    cifar_archive *ca = make_cifar_archive(NULL, 0, 0);
    server_add(f->srv, "/c10.tar.gz", ca->targz, ca->len);
    put_partial(f, ca->targz, ca->len);
    lr_err e;
    // And a temporary folder left by a killed fetch (no such process).
    char stale[2100];
    snprintf(stale, sizeof stale, "%s/.cifar-10-batches-bin.unpack.999999999/x", f->root);
    assert_int_equal(fs_mkdirs(stale, &e), 0);
    char url[256];
    url_of(f, "/c10.tar.gz", url, sizeof url);
    fetch_options o = {url, ca->md5, 1};
    if (fetch_dataset("cifar10", f->root, &o, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(server_requests(f->srv), 1);
    char want[64];
    snprintf(want, sizeof want, "bytes=%zu-", ca->len);
    assert_logged(f->srv, 0, 0, want);
    assert_dataset_complete(f, ca);
    assert_no_dataset_tmp(f);
    free_cifar_archive(ca);
}

// A local copy through a file:// URL.
static void test_fetch_file_url(void **state) {
    fixture *f = *state;
    cifar_archive *ca = make_cifar_archive(NULL, 0, 0);
    char path[2048], url[2100];
    snprintf(path, sizeof path, "%s/copy.tar.gz", f->tmp);
    test_write_file(path, ca->targz, ca->len);
    snprintf(url, sizeof url, "file://%s", path);
    fetch_options o = {url, ca->md5, 1};
    lr_err e;
    if (fetch_dataset("cifar10", f->root, &o, &e) != 0) fail_msg("%s", e.msg);
    assert_dataset_complete(f, ca);
    assert_int_equal(server_requests(f->srv), 0);
    free_cifar_archive(ca);
}

static void test_fetch_http_404(void **state) {
    fixture *f = *state;
    char url[256];
    url_of(f, "/nothing-here.tar.gz", url, sizeof url);
    fetch_options o = {url, NULL, 1};
    lr_err e;
    assert_int_equal(fetch_dataset("cifar10", f->root, &o, &e), -1);
    assert_contains(e.msg, "HTTP 404");
    assert_contains(e.msg, url);
    assert_no_dataset(f);
}

static void test_fetch_unreachable(void **state) {
    fixture *f = *state;
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/cifar-10-binary.tar.gz", closed_port());
    fetch_options o = {url, NULL, 1};
    lr_err e;
    double t0 = lr_now();
    assert_int_equal(fetch_dataset("cifar10", f->root, &o, &e), -1);
    assert_true(lr_now() - t0 < 20);
    assert_contains(e.msg, url);
    assert_contains(e.msg, "curl error");
    assert_contains(e.msg, "by hand");
    assert_contains(e.msg, "c32a1d4ab5d03f1284b67883e8d87530");
    assert_no_dataset(f);
    char stage[2048]; // nothing to resume: no empty partial or staging folder left
    snprintf(stage, sizeof stage, "%s/.cifar-10-batches-bin.download", f->root);
    assert_false(fs_exists(stage));
    // The command says the same and exits with 2.
    char *argv[] = {"fetch", "cifar10", "--dir", f->root, "--url", url, "--quiet", NULL};
    assert_int_equal(cmd_fetch(7, argv), EXIT_BAD_INPUT);
}

// A copy put in place by hand is checked and used without any network.
static void test_fetch_uses_file_copied_by_hand(void **state) {
    fixture *f = *state;
    cifar_archive *ca = make_cifar_archive(NULL, 0, 0);
    char stage[2048], file[2100], url[256];
    snprintf(stage, sizeof stage, "%s/.cifar-10-batches-bin.download", f->root);
    snprintf(file, sizeof file, "%s/cifar-10-binary.tar.gz", stage);
    lr_err e;
    assert_int_equal(fs_mkdirs(stage, &e), 0);
    test_write_file(file, ca->targz, ca->len);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x.tar.gz", closed_port());
    fetch_options o = {url, ca->md5, 1};
    if (fetch_dataset("cifar10", f->root, &o, &e) != 0) fail_msg("%s", e.msg);
    assert_dataset_complete(f, ca);
    free_cifar_archive(ca);
}

static void test_fetch_mirror_variable(void **state) {
    fixture *f = *state;
    cifar_archive *ca = make_cifar_archive(NULL, 0, 0);
    server_add(f->srv, "/mirror/cifar-10-binary.tar.gz", ca->targz, ca->len);
    char base[256];
    url_of(f, "/mirror", base, sizeof base); // no trailing '/': one is added
    setenv("LRSCOPE_MIRROR", base, 1);
    fetch_options o = {NULL, ca->md5, 1};
    lr_err e;
    int rc = fetch_dataset("cifar10", f->root, &o, &e);
    unsetenv("LRSCOPE_MIRROR");
    if (rc != 0) fail_msg("%s", e.msg);
    assert_logged(f->srv, 0, 1, "/mirror/cifar-10-binary.tar.gz");
    assert_dataset_complete(f, ca);
    free_cifar_archive(ca);
}

static void test_fetch_existing_incomplete_folder(void **state) {
    fixture *f = *state;
    char dest[2048];
    snprintf(dest, sizeof dest, "%s/cifar-10-batches-bin", f->root);
    lr_err e;
    assert_int_equal(fs_mkdirs(dest, &e), 0);
    fetch_options o = {NULL, NULL, 1};
    assert_int_equal(fetch_dataset("cifar10", f->root, &o, &e), -1);
    assert_contains(e.msg, "lacks data_batch_1.bin");
    assert_int_equal(server_requests(f->srv), 0);
}

// Gzipped bytes of a small buffer (what MNIST serves).
static uint8_t *gzip_bytes(const uint8_t *p, size_t n, size_t *out_len) {
    uLongf cap = compressBound(n) + 64;
    uint8_t *out = malloc(cap);
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = z.total_out;
    deflateEnd(&z);
    return out;
}

static void be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

// A four-file source (like MNIST) fetched from a base URL, then loaded.
static void test_fetch_multi_file_source(void **state) {
    fixture *f = *state;
    enum { NI = 20, NT = 10, SIDE = 28 };
    static uint8_t raw[4][16 + NI * SIDE * SIDE];
    size_t raw_len[4];
    const int counts[4] = {NI, NI, NT, NT};
    for (int k = 0; k < 4; k++) {
        int images = k % 2 == 0;
        be32(raw[k], images ? 0x803 : 0x801);
        be32(raw[k] + 4, (uint32_t)counts[k]);
        size_t head = images ? 16 : 8;
        if (images) {
            be32(raw[k] + 8, SIDE);
            be32(raw[k] + 12, SIDE);
        }
        size_t body = images ? (size_t)counts[k] * SIDE * SIDE : (size_t)counts[k];
        for (size_t i = 0; i < body; i++) raw[k][head + i] = (uint8_t)(images ? i * 3 : i % 10);
        raw_len[k] = head + body;
    }
    static const char *names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                   "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    uint8_t *gz[4];
    size_t gz_len[4];
    char md5[4][MD5_HEX_LEN + 1], path[4][128];
    fetch_source src = {"mnist", "mnist", {"http://127.0.0.1:1/unused/"}, {{0}}, 4, NULL, {0}, 0, 0};
    for (int k = 0; k < 4; k++) {
        gz[k] = gzip_bytes(raw[k], raw_len[k], &gz_len[k]);
        md5_hex_of(gz[k], gz_len[k], md5[k]);
        snprintf(path[k], sizeof path[k], "/mnist/%s", names[k]);
        server_add(f->srv, path[k], gz[k], gz_len[k]);
        src.files[k] = (source_file){names[k], md5[k], 0};
        src.expect[k] = names[k];
    }
    char base[256];
    url_of(f, "/mnist/", base, sizeof base);
    fetch_options o = {base, NULL, 1};
    lr_err e;
    // A whole-file URL cannot name four files; --md5 cannot check four.
    char one[300];
    snprintf(one, sizeof one, "%sx.gz", base);
    fetch_options bad_url = {one, NULL, 1}, bad_md5 = {base, md5[0], 1};
    assert_int_equal(fetch_from_source("mnist", &src, f->root, &bad_url, &e), -1);
    assert_contains(e.msg, "ending in '/'");
    assert_int_equal(fetch_from_source("mnist", &src, f->root, &bad_md5, &e), -1);
    assert_contains(e.msg, "--md5");

    if (fetch_from_source("mnist", &src, f->root, &o, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(server_requests(f->srv), 4);
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/mnist", f->root);
    dataset train, test;
    if (dataset_load(dataset_find("mnist"), dir, &train, &test, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(train.n, NI);
    assert_int_equal(test.n, NT);
    assert_int_equal(train.labels[13], 3);
    assert_int_equal(train.pixels[5], 15);
    dataset_free(&train);
    dataset_free(&test);
    // With the official checksums the same files are refused.
    char root2[2048];
    snprintf(root2, sizeof root2, "%s/data2", f->tmp);
    assert_int_equal(fetch_dataset("mnist", root2, &o, &e), -1);
    assert_contains(e.msg, "checksum mismatch");
    assert_contains(e.msg, "f68b3c2dcbeaaa9fbdd348bbdeb94873");
    for (int k = 0; k < 4; k++) free(gz[k]);
}

// ---------------------------------------------------------------- bounded input (issue 8)

// A single-file source "blob" whose official file is `size` bytes with MD5 md5.
static fetch_source blob_source(const char *md5, long long size) {
    fetch_source src = {"blob", "blob", {"http://127.0.0.1:1/unused/"}, {{"blob.bin", md5, size}},
                        1, NULL, {"blob.bin"}, 0, 0};
    return src;
}

static void test_fetch_refuses_huge_announced_download(void **state) {
    fixture *f = *state;
    uint8_t data[1000];
    fill_bytes(data, sizeof data, 7);
    char md5[MD5_HEX_LEN + 1], url[256], partial[2048];
    md5_hex_of(data, sizeof data, md5);
    server_add(f->srv, "/blob.bin", data, sizeof data);
    url_of(f, "/blob.bin", url, sizeof url);
    snprintf(partial, sizeof partial, "%s/.blob.download/blob.bin.partial", f->root);
    fetch_options o = {url, NULL, 1};
    lr_err e;
    // Known size: the announced 5 GB is refused at once, nothing written.
    fetch_source src = blob_source(md5, sizeof data);
    server_lie(f->srv, 5000000000LL, 0);
    assert_int_equal(fetch_from_source("blob", &src, f->root, &o, &e), -1);
    assert_contains(e.msg, "announces 5000000000 bytes, more than the 1000");
    assert_true(file_size(partial) <= 0);
    // Unknown size: the hard cap.
    src = blob_source(md5, 0);
    server_lie(f->srv, 4LL << 30, 0);
    assert_int_equal(fetch_from_source("blob", &src, f->root, &o, &e), -1);
    assert_contains(e.msg, "announces 4294967296 bytes, more than the 1073741824");
    // Sent without a length, more than the known size: stopped once past it.
    uint8_t big[5000];
    fill_bytes(big, sizeof big, 8);
    server_clear(f->srv);
    server_add(f->srv, "/blob.bin", big, sizeof big);
    server_lie(f->srv, 0, 1);
    src = blob_source(md5, sizeof data);
    assert_int_equal(fetch_from_source("blob", &src, f->root, &o, &e), -1);
    assert_contains(e.msg, "sent at least");
    assert_contains(e.msg, "more than the 1000");
    assert_true(file_size(partial) <= 1000);
    // The honest server, same source: fetched.
    server_clear(f->srv);
    server_add(f->srv, "/blob.bin", data, sizeof data);
    server_lie(f->srv, 0, 0);
    if (fetch_from_source("blob", &src, f->root, &o, &e) != 0) fail_msg("%s", e.msg);
    char done[2048];
    snprintf(done, sizeof done, "%s/blob/blob.bin", f->root);
    assert_file_is(done, data, sizeof data);
}

static void test_fetch_refuses_special_files(void **state) {
    fixture *f = *state;
    alarm(20); // a FIFO read would block: fail instead of hanging
    char fifo[2048], dir[2048], url[2200];
    snprintf(fifo, sizeof fifo, "%s/fifo.tar.gz", f->tmp);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    snprintf(dir, sizeof dir, "%s/adir", f->tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    const char *paths[3] = {"/dev/zero", fifo, dir};
    const char *kinds[3] = {"is a character device", "is a FIFO", "is a directory"};
    for (int i = 0; i < 3; i++) {
        snprintf(url, sizeof url, "file://%s", paths[i]);
        fetch_options o = {url, "00000000000000000000000000000000", 1};
        lr_err e;
        assert_int_equal(fetch_dataset("cifar10", f->root, &o, &e), -1);
        assert_contains(e.msg, kinds[i]);
        assert_no_dataset(f);
    }
    // An "archive copied by hand" into the staging folder that is a FIFO.
    char stage[2048], staged[2200];
    snprintf(stage, sizeof stage, "%s/.cifar-10-batches-bin.download", f->root);
    lr_err e;
    assert_int_equal(fs_mkdirs(stage, &e), 0);
    snprintf(staged, sizeof staged, "%s/cifar-10-binary.tar.gz", stage);
    assert_int_equal(mkfifo(staged, 0644), 0);
    fetch_options o = {"file:///nonexistent.tar.gz", NULL, 1};
    assert_int_equal(fetch_dataset("cifar10", f->root, &o, &e), -1);
    assert_contains(e.msg, "cifar-10-binary.tar.gz: is a FIFO");
    // --dir itself a FIFO
    assert_int_equal(fetch_dataset("cifar10", fifo, &o, &e), -1);
    assert_contains(e.msg, "is a FIFO");
    assert_int_equal(server_requests(f->srv), 0);
    alarm(0);
}

static void test_fetch_refuses_bomb(void **state) {
    fixture *f = *state;
    enum { BOMB = 3 << 20 };
    uint8_t *zeros = calloc(BOMB, 1);
    assert_non_null(zeros);
    tar_member m[2] = {{"bomb", AE_IFDIR, NULL, NULL, 0}, {"bomb/blob.bin", AE_IFREG, NULL, zeros, BOMB}};
    size_t len;
    uint8_t *targz = make_targz(m, 2, &len);
    free(zeros);
    assert_true(len < BOMB / 50); // small compressed, big expanded
    char md5[MD5_HEX_LEN + 1], url[256];
    md5_hex_of(targz, len, md5);
    server_add(f->srv, "/bomb.tar.gz", targz, len);
    url_of(f, "/bomb.tar.gz", url, sizeof url);
    fetch_source src = {"bomb", "bomb", {"http://127.0.0.1:1/unused/"},
                        {{"bomb.tar.gz", md5, (long long)len}}, 1, "bomb", {"blob.bin"},
                        1 << 20, 0};
    fetch_options o = {url, NULL, 1};
    lr_err e;
    assert_int_equal(fetch_from_source("bomb", &src, f->root, &o, &e), -1);
    assert_contains(e.msg, "unpacks to more than 1048576 bytes");
    assert_contains(e.msg, "the archive was deleted");
    char dest[2048];
    snprintf(dest, sizeof dest, "%s/bomb", f->root);
    assert_false(fs_exists(dest));
    assert_no_dataset_tmp(f);
    // With room for it, the same archive is fine.
    src.max_unpacked_bytes = 4 << 20;
    if (fetch_from_source("bomb", &src, f->root, &o, &e) != 0) fail_msg("%s", e.msg);
    free(targz);
}

static void test_cmd_fetch_empty_values(void **state) {
    fixture *f = *state;
    char *empty_name[] = {"fetch", "", "--dir", f->root, NULL};
    assert_int_equal(cmd_fetch(4, empty_name), EXIT_BAD_INPUT);
    char *empty_dir[] = {"fetch", "cifar10", "--dir", "", NULL};
    assert_int_equal(cmd_fetch(4, empty_dir), EXIT_BAD_INPUT);
    char *empty_dir_eq[] = {"fetch", "cifar10", "--dir=", NULL};
    assert_int_equal(cmd_fetch(3, empty_dir_eq), EXIT_BAD_INPUT);
    char *empty_url[] = {"fetch", "cifar10", "--dir", f->root, "--url", "", NULL};
    assert_int_equal(cmd_fetch(6, empty_url), EXIT_BAD_INPUT);
    char *empty_md5[] = {"fetch", "cifar10", "--dir", f->root, "--md5", "", NULL};
    assert_int_equal(cmd_fetch(6, empty_md5), EXIT_BAD_INPUT);
    // The library refuses them too, rather than falling back to defaults.
    lr_err e;
    assert_int_equal(fetch_dataset("", f->root, NULL, &e), -1);
    assert_contains(e.msg, "empty");
    assert_int_equal(fetch_dataset("cifar10", "", NULL, &e), -1);
    assert_contains(e.msg, "--dir) is empty");
    fetch_options o = {"", NULL, 1};
    assert_int_equal(fetch_dataset("cifar10", f->root, &o, &e), -1);
    assert_contains(e.msg, "--url is empty");
    char long_dir[5001];
    memset(long_dir, 'd', 5000);
    long_dir[0] = '/';
    long_dir[5000] = '\0';
    assert_int_equal(fetch_dataset("cifar10", long_dir, NULL, &e), -1);
    assert_contains(e.msg, "--dir /ddd");
    assert_int_equal(server_requests(f->srv), 0);
    assert_false(fs_exists("data/.cifar-10-batches-bin.download"));
}

static void test_cmd_fetch_arguments(void **state) {
    fixture *f = *state;
    char *help[] = {"fetch", "--help", NULL};
    FILE *saved = stdout;
    stdout = fopen("/dev/null", "w");
    int rc = cmd_fetch(2, help);
    fclose(stdout);
    stdout = saved;
    assert_int_equal(rc, EXIT_OK);
    char *none[] = {"fetch", "--quiet", NULL};
    assert_int_equal(cmd_fetch(2, none), EXIT_BAD_INPUT);
    char *unknown[] = {"fetch", "cifar11", "--dir", f->root, NULL};
    assert_int_equal(cmd_fetch(4, unknown), EXIT_BAD_INPUT);
    char *bad_md5[] = {"fetch", "cifar10", "--dir", f->root, "--md5", "xyz", NULL};
    assert_int_equal(cmd_fetch(6, bad_md5), EXIT_BAD_INPUT);
    char *folder[] = {"fetch", "folder", "--dir", f->root, NULL};
    assert_int_equal(cmd_fetch(4, folder), EXIT_BAD_INPUT);
    char *bad_opt[] = {"fetch", "cifar10", "--frobnicate", NULL};
    assert_int_equal(cmd_fetch(3, bad_opt), EXIT_BAD_INPUT);
    char *no_value[] = {"fetch", "cifar10", "--dir", NULL};
    assert_int_equal(cmd_fetch(3, no_value), EXIT_BAD_INPUT);
    assert_int_equal(server_requests(f->srv), 0);
    lr_err e;
    assert_int_equal(fetch_dataset("nope", f->root, NULL, &e), -1);
    assert_contains(e.msg, "cifar10");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md5_rfc1321_vectors),
        cmocka_unit_test(test_unpack_path_rules),
        cmocka_unit_test(test_sources_match_dataset_table),
        cmocka_unit_test_setup_teardown(test_fetch_good_archive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_wrong_checksum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_truncated_archive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_archive_lacking_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_refuses_dotdot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_refuses_absolute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_refuses_links_outside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_resumes_after_dropped_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_resumes_in_next_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_restarts_when_range_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_restarts_after_bad_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_whole_partial_gets_416, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_file_url, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_http_404, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_unreachable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_uses_file_copied_by_hand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_mirror_variable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_existing_incomplete_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_multi_file_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cmd_fetch_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_refuses_huge_announced_download, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_refuses_special_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_refuses_bomb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cmd_fetch_empty_values, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
