// progress.c: the download progress display. Speed and time left count only
// the bytes of this transfer, so a resumed download does not look fast.
#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <string.h>
#include <unistd.h>

enum { BAR_WIDTH = 24 };
static const double TTY_INTERVAL = 0.2;    // seconds between redraws
static const double PLAIN_INTERVAL = 15.0; // seconds between plain lines

void progress_format_bytes(char *out, size_t cap, double bytes) {
    static const char *units[] = {"B", "kB", "MB", "GB", "TB"};
    int u = 0;
    while (bytes >= 1000.0 && u < 4) {
        bytes /= 1000.0;
        u++;
    }
    if (u == 0) snprintf(out, cap, "%.0f %s", bytes, units[u]);
    else snprintf(out, cap, "%.1f %s", bytes, units[u]);
}

static void format_duration(char *out, size_t cap, double s) {
    if (s < 0 || s > 99 * 3600.0) {
        snprintf(out, cap, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(out, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(out, cap, "%02ld:%02ld", t / 60, t % 60);
}

void progress_start(progress *p, FILE *out, const char *label, long long start_bytes) {
    memset(p, 0, sizeof *p);
    p->out = out;
    if (!out) return;
    p->tty = isatty(fileno(out));
    p->label = label;
    p->start_bytes = start_bytes;
    p->t_start = p->t_last = lr_now();
    if (!p->tty && start_bytes > 0) {
        char b[32];
        progress_format_bytes(b, sizeof b, (double)start_bytes);
        fprintf(out, "lrscope: %s: resuming after %s\n", label, b);
    }
}

static void draw(progress *p, long long done, long long total, double now) {
    double elapsed = now - p->t_start;
    double speed = elapsed > 0 ? (double)(done - p->start_bytes) / elapsed : 0;
    char sdone[32], stotal[32], sspeed[32], seta[32];
    progress_format_bytes(sdone, sizeof sdone, (double)done);
    progress_format_bytes(stotal, sizeof stotal, (double)total);
    progress_format_bytes(sspeed, sizeof sspeed, speed);
    format_duration(seta, sizeof seta,
                    total > 0 && speed > 0 ? (double)(total - done) / speed : -1);
    double frac = total > 0 ? (double)done / (double)total : 0;
    if (frac > 1) frac = 1;
    if (p->tty) {
        char bar[BAR_WIDTH + 1];
        int fill = (int)(frac * BAR_WIDTH);
        for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < fill ? '#' : '.';
        bar[BAR_WIDTH] = '\0';
        if (total > 0)
            fprintf(p->out, "\r%s [%s] %3.0f%% %s / %s  %s/s  %s left \033[K", p->label, bar,
                    100 * frac, sdone, stotal, sspeed, seta);
        else
            fprintf(p->out, "\r%s %s  %s/s \033[K", p->label, sdone, sspeed);
        p->drawn = 1;
    } else if (total > 0) {
        fprintf(p->out, "lrscope: %s: %3.0f%%  %s of %s  %s/s  %s left\n", p->label,
                100 * frac, sdone, stotal, sspeed, seta);
    } else {
        fprintf(p->out, "lrscope: %s: %s  %s/s\n", p->label, sdone, sspeed);
    }
    fflush(p->out);
}

void progress_update(progress *p, long long done, long long total) {
    if (!p->out) return;
    double now = lr_now();
    if (now - p->t_last < (p->tty ? TTY_INTERVAL : PLAIN_INTERVAL)) return;
    p->t_last = now;
    draw(p, done, total, now);
}

void progress_finish(progress *p, long long done, long long total) {
    if (!p->out) return;
    double now = lr_now();
    if (p->tty) {
        draw(p, done, total, now);
        fputc('\n', p->out);
    } else {
        char sdone[32], sspeed[32];
        double elapsed = now - p->t_start;
        progress_format_bytes(sdone, sizeof sdone, (double)done);
        progress_format_bytes(sspeed, sizeof sspeed,
                              elapsed > 0 ? (double)(done - p->start_bytes) / elapsed : 0);
        fprintf(p->out, "lrscope: %s: %s received (%s/s)\n", p->label, sdone, sspeed);
    }
    fflush(p->out);
    p->drawn = 0;
}
