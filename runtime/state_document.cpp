#include "runtime/state_document.h"

namespace runvm::runtime {

nlohmann::ordered_json state_document(const oci::State& state, const std::string& owner) {
  nlohmann::ordered_json j;
  j["ociVersion"] = state.ociVersion;
  j["id"] = state.id;
  j["pid"] = state.pid;
  j["status"] = std::string(oci::to_string(state.status));
  j["bundle"] = state.bundle;
  j["rootfs"] = state.runvm.rootfs;
  j["created"] = state.runvm.created;
  j["owner"] = owner;
  if (!state.annotations.empty()) j["annotations"] = state.annotations;
  return j;
}

}  // namespace runvm::runtime
