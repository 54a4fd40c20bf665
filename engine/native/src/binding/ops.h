// Every op the addon exports, in one table (registered by addon.cpp). Each binding checks its arguments, builds
// the op's plain argument struct and dispatches to the CPU twin or the CUDA kernel.
#pragma once
#include <napi.h>

namespace splatcast::binding {

// hashgridLayout(config) -> { paramCount, outputDim, resolution[], entries[] }
Napi::Value hashgrid_layout(const Napi::CallbackInfo& info);
// triplaneHashgridForward(device, config, rowCounts, xyz[rows,3], tables[seg], out[rows,dim])
Napi::Value triplane_hashgrid_forward(const Napi::CallbackInfo& info);

}  // namespace splatcast::binding
