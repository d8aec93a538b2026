// Helpers shared by the oci unit tests.
#pragma once

#include <optional>
#include <string>

namespace runvm::oci::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Full path of `runc` if it is installed (PATH, /usr/sbin, /usr/bin), else nullopt.
std::optional<std::string> find_runc();

// Runs `cmd` with /bin/sh -c; returns its exit status (or -1 if it did not exit normally).
int run_shell(const std::string& cmd);

// Whole file contents; fails the current test on error.
std::string slurp(const std::string& path);

}  // namespace runvm::oci::testing
