// cli_stop.c: the stop signals of the long commands (commands.h).
#include "commands.h"

#include <string.h>

volatile sig_atomic_t cli_stop; // the only way a signal can talk to us

static void on_stop_signal(int sig) {
    (void)sig;
    cli_stop = 1;
}

void cli_catch_stop_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND; // a second Ctrl-C or SIGTERM ends at once
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_flags = 0; // SIGHUP stays caught
    sigaction(SIGHUP, &sa, NULL);
}
