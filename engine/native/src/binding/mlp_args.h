// Reading MLP shapes from JavaScript, shared by every binding whose op evaluates MLPs.
#pragma once
#include <napi.h>

#include "../ops/mlp.h"

namespace splatcast {

// Reads an MlpShape ({ input, hidden: number[], output, bias }) into a validated layout; `name` prefixes errors.
MlpLayout mlp_shape_arg(const Napi::Value& value, const char* name);
// The MLP shape stored under `key` of `shapes`; errors name it by `key`.
MlpLayout mlp_shape_of(const Napi::Object& shapes, const char* key);
// A per-segment weight list stored under `key` of `weights`, each tensor holding net.param_count() values.
PerSegment<const float*> mlp_weights_of(const Napi::Value& weights, const char* key, const Segments& segments,
                                        Device device, const MlpLayout& net);

}  // namespace splatcast
