// fetch.c: fetch_dataset: from a data set name to a complete folder: choose
// URLs, download each file (download.c), check its MD5 (md5.c), unpack
// archives into a temporary folder (unpack.c), check the expected files,
// and rename into place.
#define _POSIX_C_SOURCE 200809L
#include "fetch.h"
#include "download.h"
#include "md5.h"
#include "sources.h"
#include "unpack.h"
#include "../data/dataset.h"
#include "../util/fsutil.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { URL_MAX = 2048, MAX_URLS = SOURCE_MAX_MIRRORS };

typedef struct {
    const char *name;        // data set name as asked
    const char *root;
    const fetch_source *src;
    const fetch_options *opt;
    FILE *msg;               // stderr, or NULL when quiet
    char dest[PATH_MAX];     // ROOT/FOLDER
    char stage[PATH_MAX];    // ROOT/.FOLDER.download
} fetch_job;

// First expected file missing from dir, or NULL when all are there.
static const char *missing_file(const fetch_source *src, const char *dir) {
    for (int i = 0; i < SOURCE_MAX_EXPECT && src->expect[i]; i++) {
        char path[PATH_MAX];
        struct stat st;
        fs_join(path, sizeof path, dir, src->expect[i]);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return src->expect[i];
    }
    return NULL;
}

// Candidate URLs for one file, in the order they are tried.
static int build_urls(const fetch_job *j, const char *file, char urls[][URL_MAX], int *n,
                      lr_err *e) {
    const char *url = j->opt->url;
    const char *env = getenv("LRSCOPE_MIRROR");
    *n = 0;
    if (url && url[0]) {
        size_t len = strlen(url);
        if (url[len - 1] == '/') {
            snprintf(urls[0], URL_MAX, "%s%s", url, file);
        } else if (j->src->n_files == 1) {
            snprintf(urls[0], URL_MAX, "%s", url);
        } else {
            return lr_fail(e, "--url %s: %s is %d files; give a base URL ending in '/' to "
                              "which their names are appended",
                           url, j->name, j->src->n_files);
        }
        *n = 1;
    } else if (env && env[0]) {
        size_t len = strlen(env);
        snprintf(urls[0], URL_MAX, "%s%s%s", env, env[len - 1] == '/' ? "" : "/", file);
        *n = 1;
    } else {
        for (int m = 0; m < SOURCE_MAX_MIRRORS && j->src->mirrors[m]; m++)
            snprintf(urls[(*n)++], URL_MAX, "%s%s", j->src->mirrors[m], file);
    }
    return 0;
}

// Downloads url into partial and checks it; renames it to final when the
// MD5 matches. A resumed download that fails the check is retried once
// from the start (the old bytes may have been another copy).
static int download_checked(const fetch_job *j, const char *url, const source_file *sf,
                            const char *md5, const char *partial, const char *final,
                            lr_err *e) {
    // The official file's size bounds the download; a mirror with its own
    // --md5 (a different copy) only gets the hard cap.
    download_options dopt = {j->opt->quiet, sf->size, sf->size > 0 && !j->opt->md5 ? sf->size : 0};
    for (int pass = 0; pass < 2; pass++) {
        if (j->msg) fprintf(j->msg, "lrscope: downloading %s\n", url);
        long long resumed = 0;
        if (download_file(url, partial, &dopt, &resumed, e) != 0) return -1;
        char got[MD5_HEX_LEN + 1];
        if (md5_file_hex(partial, got, e) != 0) return -1;
        if (strcmp(got, md5) == 0) {
            if (rename(partial, final) != 0)
                return lr_fail(e, "%s: cannot rename to %s: %s", partial, final, lr_strerror(errno));
            return 0;
        }
        remove(partial);
        if (resumed == 0)
            return lr_fail(e, "%s: checksum mismatch: expected MD5 %s, got %s; the download "
                              "was deleted. If this is a mirror whose copy is known to differ, "
                              "pass --md5 %s",
                           url, md5, got, got);
        if (j->msg)
            fprintf(j->msg, "lrscope: %s: checksum mismatch after resuming; downloading "
                            "again from the start\n", sf->name);
    }
    return lr_fail(e, "%s: checksum mismatch twice; the download was deleted", url);
}

// Appends how to put the file in place by hand to a failure message.
static void add_manual_hint(const fetch_job *j, const source_file *sf, const char *md5,
                            const char *first_url, lr_err *e) {
    char why[sizeof e->msg];
    snprintf(why, sizeof why, "%s", e->msg);
    lr_fail(e, "%s\nTo put it in place by hand: download %s (MD5 %s) from %s, copy it to "
               "%s/%s and run `lrscope fetch %s --dir %s` again (it checks and %s it); or "
               "pass --url with a mirror (file:///path/to/%s works for a local copy)",
            why, sf->name, md5, first_url, j->stage, sf->name, j->name, j->root,
            j->src->archive_dir ? "unpacks" : "installs", sf->name);
}

// Leaves STAGE/FILE present with the right MD5.
static int fetch_file(const fetch_job *j, int k, lr_err *e) {
    const source_file *sf = &j->src->files[k];
    char md5[MD5_HEX_LEN + 1];
    snprintf(md5, sizeof md5, "%s", j->opt->md5 ? j->opt->md5 : sf->md5);
    for (char *p = md5; *p; p++) *p = (char)tolower((unsigned char)*p);

    char final[PATH_MAX], partial[PATH_MAX + 16];
    fs_join(final, sizeof final, j->stage, sf->name);
    snprintf(partial, sizeof partial, "%s.partial", final);
    if (fs_exists(final)) { // finished earlier, or copied here by hand
        char got[MD5_HEX_LEN + 1];
        if (md5_file_hex(final, got, e) != 0) return -1;
        if (strcmp(got, md5) == 0) {
            if (j->msg) fprintf(j->msg, "lrscope: using %s (checksum matches)\n", final);
            remove(partial);
            return 0;
        }
        if (j->msg)
            fprintf(j->msg, "lrscope: %s: checksum mismatch (expected %s, got %s); deleting "
                            "it and downloading again\n", final, md5, got);
        if (remove(final) != 0)
            return lr_fail(e, "%s: checksum mismatch (expected MD5 %s, got %s) and cannot "
                              "delete it: %s", final, md5, got, lr_strerror(errno));
    }
    char urls[MAX_URLS][URL_MAX];
    int n_urls;
    if (build_urls(j, sf->name, urls, &n_urls, e) != 0) return -1;
    char first_error[sizeof e->msg] = "";
    for (int u = 0; u < n_urls; u++) {
        if (download_checked(j, urls[u], sf, md5, partial, final, e) == 0) return 0;
        if (u == 0) snprintf(first_error, sizeof first_error, "%s", e->msg);
        if (j->msg && u + 1 < n_urls) fprintf(j->msg, "lrscope: %s; trying the next mirror\n", e->msg);
    }
    struct stat st;
    if (stat(partial, &st) == 0 && st.st_size == 0) remove(partial); // nothing to resume
    // Report the first mirror's failure: it is the main one.
    snprintf(e->msg, sizeof e->msg, "%s", first_error);
    add_manual_hint(j, sf, md5, urls[0], e);
    return -1;
}

// rename(2) into place; a concurrent fetch that got there first is fine.
static int move_into_place(const fetch_job *j, const char *from, lr_err *e) {
    if (rename(from, j->dest) == 0) return 0;
    int err = errno;
    if (fs_is_dir(j->dest) && !missing_file(j->src, j->dest)) return 0;
    return lr_fail(e, "%s: cannot rename %s into place: %s", j->dest, from, lr_strerror(err));
}

// Removes ROOT/.FOLDER.unpack.PID folders left by fetches that were killed
// (their process is gone), so a crash does not leave a data set's worth of
// hidden files behind.
static void remove_stale_unpacks(const fetch_job *j) {
    char prefix[PATH_MAX];
    snprintf(prefix, sizeof prefix, ".%s.unpack.", j->src->folder);
    DIR *d = opendir(j->root);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(prefix);
        if (strncmp(de->d_name, prefix, n) != 0) continue;
        char *end;
        long pid = strtol(de->d_name + n, &end, 10);
        if (*end || pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
            char path[PATH_MAX];
            if (fs_path(path, sizeof path, j->root, de->d_name, NULL) == 0) unpack_remove_tree(path);
        }
    }
    closedir(d);
}

// Unpacks STAGE/ARCHIVE into ROOT/.FOLDER.unpack.PID, checks it, moves the
// archive's top folder to ROOT/FOLDER.
static int unpack_into_place(const fetch_job *j, lr_err *e) {
    const fetch_source *src = j->src;
    char archive[PATH_MAX], tmp[PATH_MAX], inner[PATH_MAX];
    fs_join(archive, sizeof archive, j->stage, src->files[0].name);
    snprintf(tmp, sizeof tmp, "%s/.%s.unpack.%ld", j->root, src->folder, (long)getpid());
    fs_join(inner, sizeof inner, tmp, src->archive_dir);
    remove_stale_unpacks(j);
    if (unpack_remove_tree(tmp) != 0)
        return lr_fail(e, "%s: a stale temporary folder is in the way and cannot be removed", tmp);
    if (j->msg) fprintf(j->msg, "lrscope: unpacking %s\n", archive);
    unpack_limits lim = {src->max_unpacked_bytes, src->max_entries};
    int bad = 0, rc = unpack_archive_limited(archive, tmp, &lim, &bad, e);
    if (rc == 0) {
        const char *miss = fs_is_dir(inner) ? missing_file(src, inner) : src->expect[0];
        if (miss) {
            bad = 1;
            rc = lr_fail(e, "%s: the archive lacks %s/%s; expected the official layout "
                            "(%s/ holding %s ...)",
                         archive, src->archive_dir, miss, src->archive_dir, src->expect[0]);
        }
    }
    if (rc == 0) rc = move_into_place(j, inner, e);
    unpack_remove_tree(tmp);
    if (rc != 0) {
        if (bad) {
            remove(archive);
            size_t len = strlen(e->msg);
            snprintf(e->msg + len, sizeof e->msg - len, " (the archive was deleted)");
        }
        return -1;
    }
    remove(archive);
    return 0;
}

static int fetch_all(fetch_job *j, lr_err *e) {
    if (fs_mkdirs(j->stage, e) != 0) return -1;
    for (int k = 0; k < j->src->n_files; k++) {
        if (fetch_file(j, k, e) != 0) {
            rmdir(j->stage); // only if nothing worth resuming is in it
            return -1;
        }
    }
    if (j->src->archive_dir) {
        if (unpack_into_place(j, e) != 0) return -1;
        rmdir(j->stage); // fails harmlessly if something else is in it
        return 0;
    }
    const char *miss = missing_file(j->src, j->stage);
    if (miss) return lr_fail(e, "%s/%s: missing after download", j->stage, miss);
    return move_into_place(j, j->stage, e);
}

// Checks the options, then fetches src into ROOT/src->folder.
static int fetch_checked(const char *name, const fetch_source *src, const char *root_dir,
                         const fetch_options *opt, lr_err *e) {
    fetch_job j = {name, root_dir, src, opt, opt->quiet ? NULL : stderr, "", ""};
    if (!root_dir[0]) return lr_fail(e, "the data root (--dir) is empty; expected a folder");
    if (opt->url && !opt->url[0]) return lr_fail(e, "--url is empty; expected a URL");
    if (opt->md5 && !opt->md5[0]) return lr_fail(e, "--md5 is empty; expected 32 hexadecimal digits");
    // Room for the longest name fetch makes inside it (.FOLDER.unpack.PID/FOLDER/FILE.partial).
    if (fs_check_room(root_dir, 160, "--dir", e) != 0) return -1;
    struct stat root_st;
    if (stat(root_dir, &root_st) == 0 && !S_ISDIR(root_st.st_mode))
        return lr_fail(e, "--dir %s: is a %s, expected a folder", root_dir, fs_kind(root_st.st_mode));
    if (opt->md5 && !md5_is_hex(opt->md5))
        return lr_fail(e, "--md5 \"%s\": expected 32 hexadecimal digits", opt->md5);
    if (opt->md5 && src->n_files != 1)
        return lr_fail(e, "--md5 applies to a single download; %s is %d files, each checked "
                          "against its published MD5", name, src->n_files);
    if (snprintf(j.dest, sizeof j.dest, "%s/%s", root_dir, src->folder) >= (int)sizeof j.dest ||
        snprintf(j.stage, sizeof j.stage, "%s/.%s.download", root_dir, src->folder) >=
            (int)sizeof j.stage)
        return lr_fail(e, "%s: path too long", root_dir);

    if (fs_is_dir(j.dest)) {
        const char *miss = missing_file(src, j.dest);
        if (miss)
            return lr_fail(e, "%s exists but lacks %s; remove the folder (or complete it by "
                              "hand) and fetch again", j.dest, miss);
        if (j.msg) fprintf(j.msg, "lrscope: %s is already in %s\n", name, j.dest);
        return 0;
    }
    if (fs_exists(j.dest)) return lr_fail(e, "%s exists and is not a folder", j.dest);
    if (fetch_all(&j, e) != 0) return -1;
    if (j.msg) fprintf(j.msg, "lrscope: %s is ready in %s\n", name, j.dest);
    return 0;
}

int fetch_from_source(const char *name, const fetch_source *src, const char *root_dir,
                      const fetch_options *opt, lr_err *e) {
    static const fetch_options defaults = {NULL, NULL, 0};
    LR_ASSERT(src && src->n_files >= 1 && src->n_files <= SOURCE_MAX_FILES);
    return fetch_checked(name, src, root_dir ? root_dir : "data", opt ? opt : &defaults, e);
}

int fetch_dataset(const char *name, const char *root_dir, const fetch_options *opt, lr_err *e) {
    if (!name[0]) return lr_fail(e, "the data set name is empty; expected one of: %s", dataset_names());
    const dataset_info *info = dataset_find(name);
    if (!info) return lr_fail(e, "unknown data set \"%s\"; expected one of: %s", name, dataset_names());
    if (!root_dir) root_dir = "data";
    const fetch_source *src = sources_find(info->folder);
    if (!src)
        return lr_fail(e, "%s has nothing to download: it is read from your own folder of "
                          "images (%s/%s/train/CLASS/*.png and %s/%s/test/CLASS/*.png)",
                       name, root_dir, info->folder, root_dir, info->folder);
    return fetch_from_source(name, src, root_dir, opt, e);
}

void fetch_print_sources(FILE *out) {
    for (int i = 0; i < sources_count(); i++) {
        const fetch_source *s = sources_at(i);
        fprintf(out, "  %s  -> DIR/%s\n", s->datasets, s->folder);
        for (int k = 0; k < s->n_files; k++) {
            fprintf(out, "      %s  md5 %s\n", s->files[k].name, s->files[k].md5);
        }
        for (int m = 0; m < SOURCE_MAX_MIRRORS && s->mirrors[m]; m++)
            fprintf(out, "      from %s\n", s->mirrors[m]);
    }
}
