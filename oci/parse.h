// config.json <-> Spec.
//
// Parsing checks only JSON syntax and JSON types; content rules (absolute paths,
// known names, ...) are validate()'s job (oci/validate.h). The first problem found
// is returned as an Error whose message names the JSON path:
//   "process.args[1]: expected string, got number"
//   "linux.resources.memory.limit: expected integer, got string"
//   "invalid JSON: parse error at line 3, column 5: syntax error ..."
// Unknown fields are ignored; null is treated as absent. Integers are range
// checked against the field's type ("process.user.uid: -1 is out of range for uint32").
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "oci/spec.h"

namespace runvm::oci {

// Parses config.json text.
[[nodiscard]] Result<Spec> parse_config(std::string_view text);
// Parses an already decoded JSON document.
[[nodiscard]] Result<Spec> config_from_json(const nlohmann::json& doc);
// Reads and parses a file. Errors: "open <path>: <strerror>" (err = errno), or the
// parse error wrapped as "<path>: ...".
[[nodiscard]] Result<Spec> parse_config_file(const std::string& path);

// A process.json as given to `runvm exec --process`. Paths in errors are relative
// to the document ("args[0]: expected string, got number").
[[nodiscard]] Result<Process> parse_process(std::string_view text);
[[nodiscard]] Result<Process> process_from_json(const nlohmann::json& doc);
// A resources document as given to `runvm update -r` (linux.resources shape).
[[nodiscard]] Result<Resources> parse_resources(std::string_view text);
[[nodiscard]] Result<Resources> resources_from_json(const nlohmann::json& doc);

// Serialises back to JSON; parse_config(to_json(s)) == s for every Spec s.
// Keys are sorted (nlohmann::json).
[[nodiscard]] nlohmann::json to_json(const Spec& spec);
[[nodiscard]] nlohmann::json to_json(const Process& process);
[[nodiscard]] nlohmann::json to_json(const Resources& resources);

// config.json text with keys in the runtime-spec's (and runc's) order, indented
// with tabs like `runc spec` when indent > 0.
[[nodiscard]] std::string to_config_text(const Spec& spec, int indent = 1);

}  // namespace runvm::oci
