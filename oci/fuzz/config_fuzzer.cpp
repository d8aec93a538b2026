// libFuzzer target: config.json parser + validator, and the round-trip property
// parse(serialise(parse(x))) == parse(x). Also feeds the same bytes to the
// process, resources and state.json parsers. Built with -DRUNVM_FUZZ=ON (clang):
//   build/oci/oci_config_fuzzer oci/fuzz/corpus
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "oci/parse.h"
#include "oci/state.h"
#include "oci/validate.h"

using namespace runvm::oci;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto spec = parse_config(text); spec.ok()) {
    auto violations = validate(*spec);
    (void)format_violations(violations);

    auto again = config_from_json(to_json(*spec));
    if (!again.ok() || !(*again == *spec)) std::abort();  // lossy serialisation
    auto from_text = parse_config(to_config_text(*spec));
    if (!from_text.ok() || !(*from_text == *spec)) std::abort();
    if (validate(*again) != violations) std::abort();  // validation depends only on the model
  }
  if (auto p = parse_process(text); p.ok()) {
    (void)validate_process(*p, "");
    auto again = process_from_json(to_json(*p));
    if (!again.ok() || !(*again == *p)) std::abort();
  }
  if (auto r = parse_resources(text); r.ok()) {
    (void)validate_resources(*r);
  }
  if (auto st = parse_state(text); st.ok()) {
    auto again = state_from_json(to_json(*st));
    if (!again.ok() || !(*again == *st)) std::abort();
  }
  return 0;
}
