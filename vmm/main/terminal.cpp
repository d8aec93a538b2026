#include "vmm/main/terminal.h"

#include <fcntl.h>
#include <unistd.h>

namespace runvm::vmm {

void ensure_std_fds_open() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) != -1) continue;
    int n = ::open("/dev/null", O_RDWR);
    if (n >= 0 && n != fd) {
      dup2(n, fd);
      ::close(n);
    }
  }
}

RawTerminal::RawTerminal(bool enable) {
  if (!enable || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_) != 0) return;
  termios raw = saved_;
  cfmakeraw(&raw);
  raw.c_lflag |= ISIG;
  if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) active_ = true;
}

RawTerminal::~RawTerminal() {
  if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
}

}  // namespace runvm::vmm
