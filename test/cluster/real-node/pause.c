/* The pod sandbox's init: holds the pod's namespaces, reaps orphans, exits on SIGINT/SIGTERM.
 * Written here (as upstream's pause.c does in ~60 lines) because the upstream image is only
 * served by a registry this machine cannot reach; built with -static into a scratch image. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }

int main(void) {
  if (getpid() != 1) return 1;
  signal(SIGINT, quit);
  signal(SIGTERM, quit);
  signal(SIGCHLD, reap);
  for (;;) pause();
}
