#include "guest-init/nic_release.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "base/file_io.h"

namespace runvm::guest {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The MAC of the one interface under <device>/net/, or "" when it has none.
std::string device_mac(const std::filesystem::path& device) {
  std::error_code ec;
  for (const auto& nic : std::filesystem::directory_iterator(device / "net", ec)) {
    auto text = read_file(nic.path() / "address");
    if (!text) continue;
    std::string mac = *text;
    while (!mac.empty() && std::isspace(static_cast<unsigned char>(mac.back()))) mac.pop_back();
    return lower(mac);
  }
  return "";
}

bool described(const agent::NetworkConfig& net, const std::string& mac) {
  return std::any_of(net.interfaces.begin(), net.interfaces.end(), [&](const auto& nic) {
    return lower(nic.guest_mac) == mac || lower(nic.mac) == mac;
  });
}

}  // namespace

Result<int> release_undescribed_nics(const agent::NetworkConfig& net,
                                     const std::string& driver_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(driver_dir, ec)) return 0;
  int released = 0;
  for (const auto& entry : fs::directory_iterator(driver_dir, ec)) {
    const std::string name = entry.path().filename();
    if (name.rfind("virtio", 0) != 0) continue;  // bind, unbind, module, uevent
    const std::string mac = device_mac(entry.path());
    if (!mac.empty() && described(net, mac)) continue;
    const std::string unbind = driver_dir + "/unbind";
    int fd = ::open(unbind.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return Error::from_errno("open " + unbind);
    ssize_t n = ::write(fd, name.data(), name.size());
    int err = errno;
    ::close(fd);
    if (n != static_cast<ssize_t>(name.size()))
      return Error("unbind " + name + " (" + (mac.empty() ? "no interface" : mac) +
                       ") from virtio_net: " + std::string(n < 0 ? strerror(err) : "short write"),
                   n < 0 ? err : EIO);
    ++released;
  }
  if (ec) return Error("list " + driver_dir + ": " + ec.message(), ec.value());
  return released;
}

}  // namespace runvm::guest
