// "UID[:GID]" as runvm's `vmm_user` setting and runvm-vmm's --user take it:
// numeric ids only (static binaries have no NSS to look names up), GID
// defaulting to UID. uid/gid 0 are allowed (the same as not switching).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace runvm {

struct UidGid {
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// nullopt for anything else than 1-10 digits, optionally ":" and 1-10 digits,
// each below 2^32 - 1 ((uid_t)-1 means "unchanged" to the kernel).
inline std::optional<UidGid> parse_uid_gid(std::string_view s) {
  auto number = [](std::string_view t) -> std::optional<uint32_t> {
    if (t.empty() || t.size() > 10) return std::nullopt;
    uint64_t v = 0;
    for (char c : t) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (v >= 0xffffffffu) return std::nullopt;
    return static_cast<uint32_t>(v);
  };
  const size_t colon = s.find(':');
  auto uid = number(s.substr(0, colon));
  if (!uid) return std::nullopt;
  if (colon == std::string_view::npos) return UidGid{*uid, *uid};
  auto gid = number(s.substr(colon + 1));
  if (!gid) return std::nullopt;
  return UidGid{*uid, *gid};
}

}  // namespace runvm
