// Process-level console hygiene for runvm-vmm: standard fds that always exist,
// and an interactive terminal on stdin switched to raw mode (the guest's tty
// does line editing and echo) and restored when the VMM exits.
#pragma once

#include <termios.h>

namespace runvm::vmm {

// Opens /dev/null on any of fds 0-2 that is closed, so no device or KVM fd
// can end up as "stdin"/"stdout".
void ensure_std_fds_open();

class RawTerminal {
 public:
  // No-op unless `enable` and stdin is a terminal. Ctrl-C still signals the
  // VMM (ISIG stays on) and stops the VM cleanly.
  explicit RawTerminal(bool enable);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  bool active_ = false;
  termios saved_{};
};

}  // namespace runvm::vmm
