// console_recv: the receiving end of `--console-socket`, as containerd's shim is.
// Listens on SOCKET, takes the pty master that runvm sends with SCM_RIGHTS, sets its
// window size, writes INPUT (if any) once the first output arrived, and copies
// everything the container writes to stdout until the pty closes or TIMEOUT passes.
// usage: console_recv SOCKET ROWS COLS TIMEOUT_S [INPUT]
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int receive_fd(int conn) {
  char name[256];
  struct iovec iov = {name, sizeof name};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } control;
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  if (recvmsg(conn, &msg, 0) <= 0) return -1;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: console_recv SOCKET ROWS COLS TIMEOUT_S [INPUT]\n");
    return 2;
  }
  const char* input = argc > 5 ? argv[5] : NULL;
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[1]);
  unlink(argv[1]);
  if (bind(l, (struct sockaddr*)&a, sizeof a) != 0 || listen(l, 1) != 0) {
    perror("console_recv: bind");
    return 1;
  }
  time_t deadline = time(NULL) + atoi(argv[4]);
  struct pollfd p = {l, POLLIN, 0};
  if (poll(&p, 1, atoi(argv[4]) * 1000) != 1) {
    fprintf(stderr, "console_recv: nobody connected\n");
    return 1;
  }
  int conn = accept(l, NULL, NULL);
  int master = receive_fd(conn);
  if (master < 0 || !isatty(master)) {
    fprintf(stderr, "console_recv: no pty master received\n");
    return 1;
  }
  fprintf(stderr, "console_recv: got a pty master\n");
  struct winsize ws = {.ws_row = (unsigned short)atoi(argv[2]),
                       .ws_col = (unsigned short)atoi(argv[3])};
  ioctl(master, TIOCSWINSZ, &ws);
  int sent = 0;
  for (;;) {
    int left = (int)(deadline - time(NULL));
    if (left <= 0) {
      fprintf(stderr, "console_recv: timeout\n");
      return 3;
    }
    struct pollfd m = {master, POLLIN, 0};
    int n = poll(&m, 1, 1000);
    if (n < 0 && errno != EINTR) return 1;
    if (n <= 0) continue;
    char buf[4096];
    ssize_t r = read(master, buf, sizeof buf);
    if (r <= 0) return 0;  // EIO: every slave is closed, the container is done
    fwrite(buf, 1, (size_t)r, stdout);
    fflush(stdout);
    if (input && !sent) {
      sent = 1;
      if (write(master, input, strlen(input)) < 0) return 1;
    }
  }
}
