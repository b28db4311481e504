// download.c: resumable HTTP(S) download into a ".partial" file with libcurl.
// The partial file is locked (flock) so two fetches cannot interleave bytes;
// a dropped connection is retried from where it stopped, a bounded number of
// times and only while each attempt makes progress.
#define _POSIX_C_SOURCE 200809L
#include "download.h"
#include "progress.h"
#include "../util/fsutil.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    MAX_ATTEMPTS = 5,          // requests per call, counting restarts
    CONNECT_TIMEOUT_S = 30,
    LOW_SPEED_BYTES = 1024,    // abort when slower than this ...
    LOW_SPEED_TIME_S = 60,     // ... for this long
};

// State of one request; the callbacks see it through their user pointer.
typedef struct {
    CURL *curl;
    FILE *f;
    const char *path;
    char label[128];        // file name for the progress display
    long long offset;       // bytes on disk when this request began
    long long written;      // body bytes appended by this request
    long long range_start;  // first byte of the 206's Content-Range, -1 if none
    long long expected_size;
    long long max_size;     // bytes the whole file may have
    long long too_big;      // bytes announced or reached past max_size, 0 if none
    int announced;          // too_big came from the Content-Length
    long http_code;         // response that aborted the body, 0 if none
    int checked;            // status looked at (first body bytes arrived)
    int bad_range;          // 206 for a different range than asked
    int write_errno;        // errno of a failed local write
    progress bar;
} transfer;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;
static void curl_init_once(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

// Header lines of every response (redirects included): remembers the
// Content-Range of the last one.
static size_t on_header(char *line, size_t size, size_t nitems, void *ud) {
    transfer *t = ud;
    size_t n = size * nitems;
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) t->range_start = -1;
    static const char key[] = "content-range:";
    if (n > sizeof key && strncasecmp(line, key, sizeof key - 1) == 0) {
        char buf[128];
        size_t len = n < sizeof buf - 1 ? n : sizeof buf - 1;
        memcpy(buf, line, len);
        buf[len] = '\0';
        long long first;
        if (sscanf(buf + sizeof key - 1, " bytes %lld-", &first) == 1) t->range_start = first;
    }
    return n;
}

// Truncates the partial file: the transfer starts over from byte 0.
static int restart_file(transfer *t) {
    if (fflush(t->f) != 0 || ftruncate(fileno(t->f), 0) != 0 || fseeko(t->f, 0, SEEK_SET) != 0) {
        t->write_errno = errno;
        return -1;
    }
    t->offset = 0;
    t->bar.start_bytes = 0;
    return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
    transfer *t = ud;
    size_t n = size * nmemb;
    if (!t->checked) {
        t->checked = 1;
        long code = 0;
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
        if (code == 206) {
            if (t->range_start >= 0 && t->range_start != t->offset) {
                t->bad_range = 1;
                return 0;
            }
        } else if (code == 200) {
            // The whole file again although a range was asked for.
            if (t->offset > 0 && restart_file(t) != 0) return 0;
        } else if (code != 0) { // 0: file:// and other non-HTTP schemes
            t->http_code = code;
            return 0;
        }
        curl_off_t announced = -1;
        if (curl_easy_getinfo(t->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced) == CURLE_OK &&
            announced > 0 && t->offset + (long long)announced > t->max_size) {
            t->too_big = t->offset + (long long)announced;
            t->announced = 1;
            return 0;
        }
    }
    if (t->offset + t->written + (long long)n > t->max_size) {
        t->too_big = t->offset + t->written + (long long)n;
        return 0;
    }
    if (fwrite(data, 1, n, t->f) != n) {
        t->write_errno = errno ? errno : EIO;
        return 0;
    }
    t->written += (long long)n;
    return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
    (void)ultotal;
    (void)ulnow;
    transfer *t = ud;
    long long total = dltotal > 0 ? t->offset + (long long)dltotal : t->expected_size;
    progress_update(&t->bar, t->offset + (long long)dlnow, total);
    return 0;
}

// Errors after which a new request can continue where the last one stopped.
static int is_transient(CURLcode rc) {
    return rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
           rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_GOT_NOTHING ||
           rc == CURLE_HTTP2_STREAM || rc == CURLE_HTTP2;
}

static void set_options(CURL *c, const char *url, transfer *t, char *errbuf) {
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS | CURLPROTO_FILE));
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_USERAGENT, "lrscope/" LRSCOPE_VERSION);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, (long)LOW_SPEED_BYTES);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)LOW_SPEED_TIME_S);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// A file:// URL must name a regular file no larger than max_size: curl would
// read a FIFO or a device (file:///dev/zero) forever.
static int check_file_url(const char *url, long long max_size, lr_err *e) {
    if (strncasecmp(url, "file://", 7) != 0) return 0;
    const char *p = url + 7;
    if (strncasecmp(p, "localhost/", 10) == 0) p += 9;
    char path[4096];
    size_t n = 0;
    for (; *p && *p != '?' && *p != '#'; p++) { // percent-decoded, as curl does
        int hi, lo;
        char c = *p;
        if (c == '%' && (hi = hex_digit(p[1])) >= 0 && (lo = hex_digit(p[2])) >= 0) {
            c = (char)(hi * 16 + lo);
            p += 2;
        }
        if (c == '\0' || n + 1 >= sizeof path)
            return lr_fail(e, "%s: not a usable file:// URL (path too long or holds %%00)", url);
        path[n++] = c;
    }
    path[n] = '\0';
    long long size = 0;
    if (path[0] != '/')
        return lr_fail(e, "%s: expected file:///absolute/path/to/the/archive", url);
    if (fs_check_regular(path, "the archive file (a regular file)", &size, e) != 0) return -1;
    if (size > max_size)
        return lr_fail(e, "%s: %lld bytes, more than the %lld this file may have; not the "
                          "expected file",
                       path, size, max_size);
    return 0;
}

// Opens (creating) and locks the partial file, positioned at its end.
static int open_partial(const char *path, FILE **out, lr_err *e) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0644);
    if (fd < 0) return lr_fail(e, "%s: cannot open for writing: %s", path, lr_strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int is_stat = fstat(fd, &st) == 0;
        close(fd);
        return lr_fail(e, "%s: is a %s, expected a regular file to download into; remove it",
                       path, is_stat ? fs_kind(st.st_mode) : "file that cannot be examined");
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        close(fd);
        if (err == EWOULDBLOCK)
            return lr_fail(e, "%s: another lrscope fetch is downloading into this file; "
                              "wait for it to finish", path);
        return lr_fail(e, "%s: cannot lock: %s", path, lr_strerror(err));
    }
    FILE *f = fdopen(fd, "r+b");
    if (!f) {
        int err = errno;
        close(fd);
        return lr_fail(e, "%s: cannot open for writing: %s", path, lr_strerror(err));
    }
    if (fseeko(f, 0, SEEK_END) != 0) {
        int err = errno;
        fclose(f);
        return lr_fail(e, "%s: cannot seek: %s", path, lr_strerror(err));
    }
    *out = f;
    return 0;
}

// Runs the requests; returns 0 when the file is whole, else fails with a
// message naming the URL and curl's or the server's reason.
static int run_attempts(CURL *c, const char *url, transfer *t, const download_options *opt,
                        lr_err *e) {
    char errbuf[CURL_ERROR_SIZE];
    FILE *msg = opt->quiet ? NULL : stderr;
    int restarted = 0;
    for (int attempt = 1;; attempt++) {
        errbuf[0] = '\0';
        fflush(t->f);
        t->offset = (long long)ftello(t->f);
        t->written = 0;
        t->checked = 0;
        t->bad_range = 0;
        t->http_code = 0;
        t->range_start = -1;
        t->too_big = 0;
        t->announced = 0;
        if (t->offset > t->max_size && restart_file(t) != 0) // a stale partial file too large
            return lr_fail(e, "%s: cannot truncate: %s", t->path, lr_strerror(t->write_errno));
        set_options(c, url, t, errbuf);
        curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)t->offset);
        progress_start(&t->bar, msg, t->label, t->offset);
        CURLcode rc = curl_easy_perform(c);
        if (fflush(t->f) != 0 && !t->write_errno) t->write_errno = errno;
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        long long now = t->offset + t->written;
        if (rc == CURLE_OK && !t->write_errno) progress_finish(&t->bar, now, now);
        else if (t->bar.drawn) fputc('\n', stderr);

        if (t->write_errno)
            return lr_fail(e, "%s: cannot write the download: %s", t->path, lr_strerror(t->write_errno));
        if (t->too_big)
            return lr_fail(e, "%s: the server %s %lld bytes, more than the %lld this file may "
                              "have; refusing the download (not the expected file)",
                           url, t->announced ? "announces" : "sent at least", t->too_big,
                           t->max_size);
        if (code == 416 && t->offset > 0) return 0; // already whole; the checksum decides
        if (t->http_code >= 300 || (rc == CURLE_OK && code >= 300))
            return lr_fail(e, "%s: the server answered HTTP %ld, expected the file (200)", url,
                           t->http_code ? t->http_code : code);
        if ((rc == CURLE_RANGE_ERROR || t->bad_range) && !restarted && attempt < MAX_ATTEMPTS) {
            // The server cannot resume: start again from byte 0.
            restarted = 1;
            if (restart_file(t) != 0)
                return lr_fail(e, "%s: cannot truncate: %s", t->path, lr_strerror(t->write_errno));
            if (msg) fprintf(msg, "lrscope: %s does not support resuming; starting over\n", url);
            continue;
        }
        if (rc == CURLE_OK) return 0;
        const char *why = errbuf[0] ? errbuf : lr_reason(curl_easy_strerror(rc));
        if (is_transient(rc) && t->written > 0 && attempt < MAX_ATTEMPTS) {
            if (msg)
                fprintf(msg, "lrscope: connection lost after %lld bytes (%s); resuming\n", now, why);
            continue;
        }
        return lr_fail(e, "%s: download failed: %s (curl error %d)", url, why, (int)rc);
    }
}

int download_file(const char *url, const char *partial_path, const download_options *opt,
                  long long *resumed_from, lr_err *e) {
    static const download_options defaults = {0, 0, 0};
    if (!opt) opt = &defaults;
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return lr_fail(e, "cannot initialise libcurl: %s", lr_reason(curl_easy_strerror(curl_init_rc)));
    if (!url[0]) return lr_fail(e, "an empty URL was given; expected http://, https:// or file://");
    long long max_size = opt->max_size > 0 ? opt->max_size : DOWNLOAD_MAX_BYTES;
    if (check_file_url(url, max_size, e) != 0) return -1;
    transfer t;
    memset(&t, 0, sizeof t);
    t.max_size = max_size;
    t.path = partial_path;
    const char *slash = strrchr(partial_path, '/');
    snprintf(t.label, sizeof t.label, "%s", slash ? slash + 1 : partial_path);
    char *suffix = strstr(t.label, ".partial");
    if (suffix && suffix[8] == '\0') *suffix = '\0';
    t.expected_size = opt->expected_size;
    if (open_partial(partial_path, &t.f, e) != 0) return -1;
    if (resumed_from) *resumed_from = (long long)ftello(t.f);
    t.curl = curl_easy_init();
    if (!t.curl) {
        fclose(t.f);
        return lr_fail(e, "%s: cannot create a libcurl handle", url);
    }
    int rc = run_attempts(t.curl, url, &t, opt, e);
    curl_easy_cleanup(t.curl);
    if (fclose(t.f) != 0 && rc == 0)
        return lr_fail(e, "%s: cannot write the download: %s", partial_path, lr_strerror(errno));
    return rc;
}
