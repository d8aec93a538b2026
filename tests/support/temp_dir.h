// One scratch-directory helper for every test suite. The suites used to carry
// their own TempDir copies (runtime, oci, vmm/fs, guest-init mounts) or call
// mkdtemp with hand-written cleanup that a failed ASSERT could skip; this one is
// always removed by its destructor.
#pragma once

#include <string>

namespace runvm::testing {

// A fresh, empty directory under $TMPDIR (or /tmp when that is unset or empty),
// mode 0700 as mkdtemp makes it. The constructor throws std::system_error when
// the directory cannot be made; the destructor removes it with everything in it
// and never throws (a failed removal is ignored). Not copyable.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace runvm::testing
